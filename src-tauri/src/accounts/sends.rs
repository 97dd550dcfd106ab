//! An account's sends that have not left, as its own events told them: what the webview must
//! hear again when the account is shown after another one (the UI's state starts afresh at a
//! switch, and the outbox announces a send's `pending` only once). A send is forgotten once it
//! is sent, or once the user discards it after it failed.

use natter_client::session::{AppEvent, DeliveryState};

/// One send not sent yet: its `pending` announcement, its latest upload progress and, if it
/// failed for good, that.
#[derive(Debug)]
struct Unsent {
    client_id: String,
    pending: AppEvent,
    upload: Option<AppEvent>,
    failed: Option<AppEvent>,
}

/// In the order they were first announced (the order the UI drew them in).
#[derive(Debug, Default)]
pub struct Unsents(Vec<Unsent>);

impl Unsents {
    fn find(&mut self, client_id: &str) -> Option<&mut Unsent> {
        self.0.iter_mut().find(|u| u.client_id == client_id)
    }

    /// Takes in one event of the account's stream.
    pub fn record(&mut self, event: &AppEvent) {
        match event {
            AppEvent::MessageState {
                client_id, state, ..
            } => match state {
                DeliveryState::Pending { .. } => {
                    if let Some(known) = self.find(client_id) {
                        known.pending = event.clone();
                    } else {
                        self.0.push(Unsent {
                            client_id: client_id.clone(),
                            pending: event.clone(),
                            upload: None,
                            failed: None,
                        });
                    }
                }
                DeliveryState::Failed { .. } => {
                    if let Some(known) = self.find(client_id) {
                        known.failed = Some(event.clone());
                    }
                }
                DeliveryState::Sent { .. } => self.forget(client_id),
            },
            AppEvent::Upload { client_id, .. } => {
                if let Some(known) = self.find(client_id) {
                    known.upload = Some(event.clone());
                }
            }
            _ => {}
        }
    }

    /// The user discarded the failed send `client_id`.
    pub fn forget(&mut self, client_id: &str) {
        self.0.retain(|u| u.client_id != client_id);
    }

    /// The events that draw every unsent send again, each as it stands now.
    pub fn replay(&self) -> impl Iterator<Item = AppEvent> + '_ {
        self.0.iter().flat_map(|u| {
            std::iter::once(u.pending.clone())
                .chain(u.upload.clone())
                .chain(u.failed.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_protocol::{ErrorCode, WireError};

    fn state(client_id: &str, state: DeliveryState) -> AppEvent {
        AppEvent::MessageState {
            client_id: client_id.to_owned(),
            room_id: "general".to_owned(),
            state,
        }
    }

    fn pending(client_id: &str) -> AppEvent {
        state(
            client_id,
            DeliveryState::Pending {
                body: format!("text of {client_id}"),
                created_at: "2026-12-07T03:00:00Z".to_owned(),
                files: Vec::new(),
            },
        )
    }

    #[test]
    fn unsent_sends_are_replayed_as_they_stand_and_forgotten_once_sent_or_discarded() {
        let mut unsents = Unsents::default();
        let upload = AppEvent::Upload {
            client_id: "c2".to_owned(),
            room_id: "general".to_owned(),
            sent: 10,
            total: 20,
        };
        let failed = state(
            "c3",
            DeliveryState::Failed {
                error: WireError::new(ErrorCode::Invalid, "too long"),
            },
        );
        for event in [pending("c1"), pending("c2"), upload.clone(), pending("c3")] {
            unsents.record(&event);
        }
        unsents.record(&failed);
        // Another account's or a room's event changes nothing; a progress of no known send neither.
        unsents.record(&AppEvent::Upload {
            client_id: "c9".to_owned(),
            room_id: "general".to_owned(),
            sent: 1,
            total: 2,
        });
        let replayed: Vec<AppEvent> = unsents.replay().collect();
        assert_eq!(
            replayed,
            [pending("c1"), pending("c2"), upload, pending("c3"), failed]
        );
        unsents.record(&state("c1", DeliveryState::Sent { seq: 7 }));
        unsents.forget("c3");
        let left: Vec<AppEvent> = unsents.replay().collect();
        assert_eq!(left.len(), 2, "c2 and its progress: {left:?}");
        assert_eq!(left[0], pending("c2"));
    }
}
