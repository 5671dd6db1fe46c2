//! (vision B) placeholder; owned by vision B.
