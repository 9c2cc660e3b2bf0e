//! The messages instances send each other through Redis, and their byte encoding.
//!
//! An instance that receives a request for a session another instance owns forwards it to the
//! owner's inbox channel ([`Envelope::Forward`]); the owner answers with the response head
//! ([`Envelope::Head`]), preceded by [`Envelope::Ack`] when computing it takes a while, the
//! body's frames ([`Envelope::Data`]) and [`Envelope::End`]; a response complete at once (an
//! HTTP+SSE `202`, an error) travels as one [`Envelope::Whole`]; or with [`Envelope::Gone`]
//! when it no longer holds the session. The landing instance stops a relayed
//! body with [`Envelope::Cancel`] (its client went away).
//!
//! Encoding: one kind byte, the 8-byte tag, then length-prefixed fields (4-byte big-endian
//! lengths). Compact, no escaping, and the body bytes are copied once.

use bytes::{BufMut, Bytes, BytesMut};

/// What a forwarded request asks the owner to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `POST /messages?sessionId=` (HTTP+SSE): deliver the message to the session.
    LegacyPost,
    /// `POST` on the MCP endpoint.
    McpPost,
    /// `GET` on the MCP endpoint (standalone stream or resumption).
    McpGet,
    /// `DELETE` on the MCP endpoint.
    McpDelete,
    /// A `POST` of the stateless revision for what one instance holds (a task's methods).
    StatelessPost,
}

impl Op {
    fn byte(self) -> u8 {
        match self {
            Op::LegacyPost => 1,
            Op::McpPost => 2,
            Op::McpGet => 3,
            Op::McpDelete => 4,
            Op::StatelessPost => 5,
        }
    }

    fn from_byte(b: u8) -> Option<Op> {
        Some(match b {
            1 => Op::LegacyPost,
            2 => Op::McpPost,
            3 => Op::McpGet,
            4 => Op::McpDelete,
            5 => Op::StatelessPost,
            _ => return None,
        })
    }
}

/// A request forwarded to the session's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Forward {
    /// The instance to answer to.
    pub(crate) from: String,
    /// The session the request is for.
    pub(crate) session: String,
    pub(crate) op: Op,
    /// The request headers the transport reads (`Accept`, `MCP-Protocol-Version`, ...).
    pub(crate) headers: Vec<(String, Bytes)>,
    /// The caller as the landing instance authenticated it (see `cluster::caller`).
    pub(crate) caller: Bytes,
    /// The request body, already checked against the limits and parsed where it landed.
    pub(crate) body: Bytes,
}

/// One message between instances; `tag` names the forwarded request it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Envelope {
    Forward {
        tag: u64,
        forward: Forward,
    },
    Head {
        tag: u64,
        status: u16,
        headers: Vec<(String, Bytes)>,
    },
    Data {
        tag: u64,
        bytes: Bytes,
    },
    /// A response whose body was complete when it was ready: head and body in one message.
    Whole {
        tag: u64,
        status: u16,
        headers: Vec<(String, Bytes)>,
        body: Bytes,
    },
    End {
        tag: u64,
    },
    /// The owner has the request and is computing its answer.
    Ack {
        tag: u64,
    },
    /// The owner does not hold the session (ended, or never there).
    Gone {
        tag: u64,
    },
    /// The landing instance no longer wants the body of `tag` (sent by `from`).
    Cancel {
        tag: u64,
        from: String,
    },
}

fn put_field(buf: &mut BytesMut, field: &[u8]) {
    buf.put_u32(field.len() as u32);
    buf.put_slice(field);
}

fn put_headers(buf: &mut BytesMut, headers: &[(String, Bytes)]) {
    buf.put_u32(headers.len() as u32);
    for (name, value) in headers {
        put_field(buf, name.as_bytes());
        put_field(buf, value);
    }
}

impl Envelope {
    /// The encoded bytes.
    pub(crate) fn encode(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(64);
        match self {
            Envelope::Forward { tag, forward } => {
                buf.reserve(forward.body.len() + 128);
                buf.put_u8(b'F');
                buf.put_u64(*tag);
                put_field(&mut buf, forward.from.as_bytes());
                put_field(&mut buf, forward.session.as_bytes());
                buf.put_u8(forward.op.byte());
                put_headers(&mut buf, &forward.headers);
                put_field(&mut buf, &forward.caller);
                put_field(&mut buf, &forward.body);
            }
            Envelope::Head {
                tag,
                status,
                headers,
            } => {
                buf.put_u8(b'H');
                buf.put_u64(*tag);
                buf.put_u16(*status);
                put_headers(&mut buf, headers);
            }
            Envelope::Whole {
                tag,
                status,
                headers,
                body,
            } => {
                buf.reserve(body.len() + 16);
                buf.put_u8(b'W');
                buf.put_u64(*tag);
                buf.put_u16(*status);
                put_headers(&mut buf, headers);
                put_field(&mut buf, body);
            }
            Envelope::Data { tag, bytes } => {
                buf.reserve(bytes.len() + 16);
                buf.put_u8(b'D');
                buf.put_u64(*tag);
                put_field(&mut buf, bytes);
            }
            Envelope::End { tag } => {
                buf.put_u8(b'E');
                buf.put_u64(*tag);
            }
            Envelope::Gone { tag } => {
                buf.put_u8(b'G');
                buf.put_u64(*tag);
            }
            Envelope::Ack { tag } => {
                buf.put_u8(b'A');
                buf.put_u64(*tag);
            }
            Envelope::Cancel { tag, from } => {
                buf.put_u8(b'C');
                buf.put_u64(*tag);
                put_field(&mut buf, from.as_bytes());
            }
        }
        buf.freeze()
    }

    /// Decodes an envelope; `None` for bytes that are not one (never panics).
    pub(crate) fn decode(bytes: &[u8]) -> Option<Envelope> {
        let mut r = Reader { bytes, pos: 0 };
        let kind = r.u8()?;
        let tag = r.u64()?;
        let env = match kind {
            b'F' => {
                let from = r.string()?;
                let session = r.string()?;
                let op = Op::from_byte(r.u8()?)?;
                let headers = r.headers()?;
                let caller = Bytes::copy_from_slice(r.field()?);
                let body = Bytes::copy_from_slice(r.field()?);
                Envelope::Forward {
                    tag,
                    forward: Forward {
                        from,
                        session,
                        op,
                        headers,
                        caller,
                        body,
                    },
                }
            }
            b'H' => {
                let status = r.u16()?;
                let headers = r.headers()?;
                Envelope::Head {
                    tag,
                    status,
                    headers,
                }
            }
            b'W' => Envelope::Whole {
                tag,
                status: r.u16()?,
                headers: r.headers()?,
                body: Bytes::copy_from_slice(r.field()?),
            },
            b'D' => Envelope::Data {
                tag,
                bytes: Bytes::copy_from_slice(r.field()?),
            },
            b'E' => Envelope::End { tag },
            b'G' => Envelope::Gone { tag },
            b'A' => Envelope::Ack { tag },
            b'C' => Envelope::Cancel {
                tag,
                from: r.string()?,
            },
            _ => return None,
        };
        (r.pos == bytes.len()).then_some(env)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    fn field(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.field()?.to_vec()).ok()
    }

    fn headers(&mut self) -> Option<Vec<(String, Bytes)>> {
        let n = self.u32()? as usize;
        // Each header takes at least 8 bytes: a count beyond that is malformed.
        if n > self.bytes.len() / 8 {
            return None;
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.string()?;
            let value = Bytes::copy_from_slice(self.field()?);
            out.push((name, value));
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_envelope_round_trips() {
        let all = [
            Envelope::Forward {
                tag: 7,
                forward: Forward {
                    from: "b".into(),
                    session: "s-1".into(),
                    op: Op::McpPost,
                    headers: vec![("accept".into(), Bytes::from_static(b"*/*"))],
                    caller: Bytes::from_static(b"{}"),
                    body: Bytes::from_static(br#"{"jsonrpc":"2.0"}"#),
                },
            },
            Envelope::Head {
                tag: u64::MAX,
                status: 202,
                headers: vec![],
            },
            Envelope::Data {
                tag: 1,
                bytes: Bytes::from_static(b"data: x\n\n"),
            },
            Envelope::Whole {
                tag: 8,
                status: 404,
                headers: vec![("content-type".into(), Bytes::from_static(b"text/plain"))],
                body: Bytes::from_static(b"unknown\n"),
            },
            Envelope::End { tag: 2 },
            Envelope::Gone { tag: 3 },
            Envelope::Ack { tag: 5 },
            Envelope::Cancel {
                tag: 4,
                from: "c".into(),
            },
        ];
        for env in all {
            assert_eq!(Envelope::decode(&env.encode()), Some(env));
        }
    }

    #[test]
    fn malformed_bytes_decode_to_none() {
        let good = Envelope::Data {
            tag: 1,
            bytes: Bytes::from_static(b"abc"),
        }
        .encode();
        for cut in 0..good.len() {
            assert_eq!(Envelope::decode(&good[..cut]), None, "cut at {cut}");
        }
        let mut long = good.to_vec();
        long.push(0);
        assert_eq!(Envelope::decode(&long), None);
        assert_eq!(Envelope::decode(b"Z\0\0\0\0\0\0\0\0"), None);
        // A header count that cannot fit is refused before allocating.
        let mut huge = vec![b'H'];
        huge.extend_from_slice(&1u64.to_be_bytes());
        huge.extend_from_slice(&200u16.to_be_bytes());
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(Envelope::decode(&huge), None);
    }
}
