//! Server-wide notifications as values, for transports that span several processes: what one
//! process raised ([`crate::Server::on_broadcast`]) is delivered by the others
//! ([`crate::Server::deliver_broadcast`]).

use crate::changes::{Change, ListKind};

/// A server-wide notification: one that goes to every session (or every subscribed one), not
/// to the session of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Broadcast {
    /// `notifications/{tools,resources,prompts}/list_changed`.
    ListChanged(ListChanged),
    /// `notifications/resources/updated` for this resource uri.
    ResourceUpdated(String),
}

/// Which list a `list_changed` notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListChanged {
    /// `notifications/tools/list_changed`.
    Tools,
    /// `notifications/resources/list_changed` (resources and templates).
    Resources,
    /// `notifications/prompts/list_changed`.
    Prompts,
}

impl Broadcast {
    /// The notification's method.
    pub fn method(&self) -> &'static str {
        self.change().method()
    }

    pub(crate) fn from_list(kind: ListKind) -> Broadcast {
        Broadcast::ListChanged(match kind {
            ListKind::Tools => ListChanged::Tools,
            ListKind::Resources | ListKind::Templates => ListChanged::Resources,
            ListKind::Prompts => ListChanged::Prompts,
        })
    }

    pub(crate) fn change(&self) -> Change<'_> {
        match self {
            Broadcast::ListChanged(ListChanged::Tools) => Change::List(ListKind::Tools),
            Broadcast::ListChanged(ListChanged::Resources) => Change::List(ListKind::Resources),
            Broadcast::ListChanged(ListChanged::Prompts) => Change::List(ListKind::Prompts),
            Broadcast::ResourceUpdated(uri) => Change::ResourceUpdated(uri),
        }
    }
}
