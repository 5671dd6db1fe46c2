//! Every neural network: provisioning, loading, pre- and post-processing.
