//! The one way a request type is declared: its wire name, its ack and, optionally, its checks
//! beyond decoding. Kept apart from `requests.rs` so that `admin.rs` and `account.rs`, whose
//! names `requests::NAMES` lists, use it without importing `requests.rs` back.

macro_rules! request {
    ($ty:ty, $name:literal, $ack:ty) => {
        impl Event for $ty {
            const NAME: &'static str = $name;
        }
        impl Request for $ty {
            type Ack = $ack;
        }
    };
    ($ty:ty, $name:literal, $ack:ty, |$s:ident| $validate:expr) => {
        impl Event for $ty {
            const NAME: &'static str = $name;
        }
        impl Request for $ty {
            type Ack = $ack;
            fn validate(&self) -> Result<(), WireError> {
                let $s = self;
                $validate
            }
        }
    };
}

pub(crate) use request;
