//! An extractor that never rejects: the payload (if it decodes) and whether the client wants an ack.
//! socketioxide skips the handler when an extractor fails, which would leave the client unanswered.

use serde_json::Value;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::TryData;
use socketioxide::handler::{FromMessageParts, Value as RawValue};
use socketioxide::socket::Socket;
use std::convert::Infallible;
use std::sync::Arc;

pub struct Incoming {
    /// `None` when the client sent no argument or one that is not JSON.
    pub payload: Option<Value>,
    pub wants_ack: bool,
}

impl FromMessageParts<LocalAdapter> for Incoming {
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket<LocalAdapter>>,
        v: &mut RawValue,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        let TryData(data) = TryData::<Value>::from_message_parts(s, v, ack_id)?;
        Ok(Self { payload: data.ok(), wants_ack: ack_id.is_some() })
    }
}
