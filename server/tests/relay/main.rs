//! Relay integration tests: a real relay on an ephemeral port, real Socket.IO and HTTP clients,
//! covering the protocol and the delivery promises of DESIGN.md. One binary; one module per area.

mod seed;
mod util;

mod accounts;
mod admin_cli;
mod auth;
mod authz;
mod bad_input;
mod big_rooms;
mod catchup;
mod changes;
mod chat;
mod config_file;
mod durability;
mod ephemeral;
mod exposition;
mod files;
mod history;
mod limits;
mod membership;
mod metrics;
mod presence;
mod register;
mod resend;
mod rooms;
mod search;
mod slow_clients;
mod unread;
