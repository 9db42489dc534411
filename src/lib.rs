//! xmppfed — the allowed-partner list of an XMPP federation deployment (the model of Lync Server
//! 2013's `*-CsXmppAllowedPartner` cmdlets), as a library.
//!
//! Every rule lives here: the partner model and its defaults ([`model`]), domain validation
//! ([`domain`]), negotiation rules ([`negotiation`]), list modifiers ([`list_modifier`]), wildcard
//! filters ([`wildcard`]), identity completion ([`completion`]), remote-domain explanations
//! ([`explain`]), the change history ([`history`]), export and import of the whole list
//! ([`transfer`]), binary partner records for the list ([`records`]) and the durable store with its local replica ([`store`]). The C ABI ([`ffi`]) and the .NET/PowerShell layers above it only
//! translate.

pub mod completion;
pub mod csv;
pub mod domain;
pub mod error;
pub mod explain;
pub mod ffi;
pub mod history;
pub mod json;
pub mod list_modifier;
pub mod model;
pub mod negotiation;
pub mod records;
pub mod store;
pub mod transfer;
pub mod wildcard;

pub use error::{Error, Result};
pub use model::{NewPartner, Partner, PartnerChanges, PartnerType, SaslNegotiation, TlsNegotiation};
pub use negotiation::Warning;
pub use store::{Environment, Source, Store, StoreOptions, Write};
