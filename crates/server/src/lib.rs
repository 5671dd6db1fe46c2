//! The HTTP shell around the analysis.
