//! Untrusted bytes → correctly oriented RGB frames, with limits. Knows nothing about faces.
