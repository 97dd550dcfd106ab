//! S6 soak: placeholder until written.
