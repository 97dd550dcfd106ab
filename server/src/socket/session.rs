//! Who a socket belongs to: stored in the socket's extensions at connect.

use natter_protocol::User;

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user: User,
}
