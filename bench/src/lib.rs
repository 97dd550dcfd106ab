//! natter-bench: load generator for the Natter relay.
