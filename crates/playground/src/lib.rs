//! The web Playground, embedded in the binary.
