//! The `livegate` command's building blocks, shared by the binary, its benchmarks and its
//! end-to-end tests.

pub mod load;
