//! A share of a scenario's sends made changes to the sender's earlier messages (issue 19:
//! "durable sends/s and fan-out do not drop by more than the noise when 20% of the load is
//! reactions and edits"). `--change-share P` turns P of every 100 sends, spread evenly, into a
//! reaction put on, an edit, or a reaction taken back, in turn, of the sender's last message.
//! Natter's relay only: the other systems know no changes.

use natter_protocol::requests::{EditMessage, React, SendMessage};
use natter_testkit::sio::{self, Client};

/// `--change-share`: the percentage of durable and fan-out sends that are changes.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct ChangeMix {
    /// Durable sends and fan-out: this percentage of the sends (0–100, spread evenly) are
    /// reactions and edits of the sender's last message instead (Natter only; fan-out sends
    /// edits only, whose new text carries the send time its latency needs).
    #[arg(long = "change-share", value_name = "PERCENT", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub percent: u8,
}

/// One entry to send: a message, or a change to an earlier one.
#[derive(Debug, Clone)]
pub enum Entry {
    Send(SendMessage),
    Edit(EditMessage),
    React(React),
}

impl ChangeMix {
    /// Whether send `n` (0, 1, 2, …) is a change: `percent` of every 100, spread evenly.
    pub fn is_change(self, n: u64) -> bool {
        let p = u64::from(self.percent);
        (n + 1) * p / 100 != n * p / 100
    }

    /// Send `n` of a sender in `room_id`: a message with `body`, or, when `n` is a change and
    /// the sender has a message (`target`), a change to it. `edits_only` makes every change an
    /// edit to `body`.
    pub fn entry(
        self,
        n: u64,
        room_id: &str,
        client_id: String,
        body: String,
        target: Option<&str>,
        edits_only: bool,
    ) -> Entry {
        let room_id = room_id.to_owned();
        let Some(target) = target.filter(|_| self.is_change(n)) else {
            return Entry::Send(SendMessage {
                room_id,
                client_id,
                body,
                reply_to: None,
                attachments: Vec::new(),
            });
        };
        let message_id = target.to_owned();
        match n % 3 {
            turn @ (1 | 2) if !edits_only => Entry::React(React {
                room_id,
                client_id,
                message_id,
                emoji: "👍".into(),
                on: turn == 1,
            }),
            _ => Entry::Edit(EditMessage {
                room_id,
                client_id,
                message_id,
                body,
            }),
        }
    }
}

impl Entry {
    /// Emits the entry with an ack id (each kind is answered `{message}`).
    pub async fn emit(&self, client: &mut Client) -> Result<u64, sio::Error> {
        match self {
            Self::Send(req) => client.emit(req).await,
            Self::Edit(req) => client.emit(req).await,
            Self::React(req) => client.emit(req).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_is_spread_evenly() {
        let mix = ChangeMix { percent: 20 };
        let changes: Vec<u64> = (0..20).filter(|&n| mix.is_change(n)).collect();
        assert_eq!(changes, [4, 9, 14, 19]);
        assert_eq!((0..1_000).filter(|&n| mix.is_change(n)).count(), 200);
        assert!(!(0..1_000).any(|n| ChangeMix::default().is_change(n)));
        assert!((0..10).all(|n| ChangeMix { percent: 100 }.is_change(n)));
    }

    #[test]
    fn changes_are_reactions_and_edits_of_the_target_and_need_one() {
        let mix = ChangeMix { percent: 100 };
        let entry = |n, target, edits_only| {
            mix.entry(n, "r", format!("c{n}"), "text".into(), target, edits_only)
        };
        assert!(
            matches!(entry(0, None, false), Entry::Send(_)),
            "no message yet"
        );
        assert!(matches!(entry(0, Some("m"), false), Entry::Edit(e) if e.message_id == "m"));
        assert!(matches!(entry(1, Some("m"), false), Entry::React(r) if r.on));
        assert!(matches!(entry(2, Some("m"), false), Entry::React(r) if !r.on));
        assert!(matches!(entry(2, Some("m"), true), Entry::Edit(e) if e.body == "text"));
    }
}
