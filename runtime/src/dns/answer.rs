//! One query -> a reply from the table, or "forward it upstream". Pure,
//! apart from the shuffle of replicas (a different order per answer).

use std::net::Ipv4Addr;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::table::DnsTable;

/// What to do with a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Send these bytes back.
    Reply(Vec<u8>),
    /// Not ours: ask the upstream servers.
    Forward,
    /// Not a DNS message: drop it.
    Drop,
}

/// Answers `query` (wire format) from `table` for a container on `networks`.
/// `internal`: never forward (no way out), answer NXDOMAIN instead.
pub fn answer(query: &[u8], table: &DnsTable, networks: &[String], internal: bool) -> Answer {
    answer_for("", query, table, networks, internal)
}

/// [`answer`] for the container `asker`, which also resolves its links.
pub fn answer_for(
    asker: &str,
    query: &[u8],
    table: &DnsTable,
    networks: &[String],
    internal: bool,
) -> Answer {
    let Ok(request) = Message::from_vec(query) else {
        return Answer::Drop;
    };
    let Some(question) = request.queries().first().cloned() else {
        return Answer::Drop;
    };
    let name = question.name().to_ascii();
    let mut response = Message::new();
    response
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(request.recursion_desired())
        .set_recursion_available(true)
        .add_query(question.clone());
    let not_ours = |mut response: Message| {
        if internal {
            response.set_response_code(ResponseCode::NXDomain);
            encode(&response)
        } else {
            Answer::Forward
        }
    };
    if question.query_type() == RecordType::PTR {
        let Some(address) = ptr_address(&name) else {
            return not_ours(response);
        };
        return match table.reverse(address, networks) {
            Some(container) => {
                let Ok(target) = Name::from_ascii(format!("{container}.")) else {
                    return not_ours(response);
                };
                response.add_answer(Record::from_rdata(
                    question.name().clone(),
                    0,
                    RData::PTR(PTR(target)),
                ));
                encode(&response)
            }
            None => not_ours(response),
        };
    }
    let Some(mut addresses) = table.lookup_for(asker, &name, networks) else {
        return not_ours(response);
    };
    if question.query_type() == RecordType::A {
        shuffle(&mut addresses);
        for address in addresses {
            response.add_answer(Record::from_rdata(
                question.name().clone(),
                0,
                RData::A(A(address)),
            ));
        }
    }
    // Known name, other record type (AAAA, MX, …): an empty NOERROR.
    encode(&response)
}

fn encode(response: &Message) -> Answer {
    response.to_vec().map(Answer::Reply).unwrap_or(Answer::Drop)
}

/// `4.3.2.1.in-addr.arpa.` -> 1.2.3.4
fn ptr_address(name: &str) -> Option<Ipv4Addr> {
    let rest = name.trim_end_matches('.').strip_suffix(".in-addr.arpa")?;
    let mut octets: Vec<u8> = rest
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if octets.len() != 4 {
        return None;
    }
    octets.reverse();
    Some(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]))
}

/// A cheap per-answer shuffle (xorshift seeded from the clock).
fn shuffle<T>(items: &mut [T]) {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::table::DnsRecord;
    use hickory_proto::op::Query;

    fn query(name: &str, kind: RecordType) -> Vec<u8> {
        let mut message = Message::new();
        message
            .set_id(42)
            .set_recursion_desired(true)
            .add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
        message.to_vec().unwrap()
    }

    fn table() -> DnsTable {
        let record = |names: &[&str], ip: [u8; 4]| DnsRecord {
            network: "front".into(),
            names: names.iter().map(|n| n.to_string()).collect(),
            address: Ipv4Addr::from(ip),
            container_id: String::new(),
        };
        DnsTable::new(&[
            record(&["web", "demo-web-1"], [10, 0, 0, 2]),
            record(&["web", "demo-web-2"], [10, 0, 0, 3]),
            record(&["web", "demo-web-3"], [10, 0, 0, 4]),
        ])
    }

    fn reply(answer: Answer) -> Message {
        match answer {
            Answer::Reply(bytes) => Message::from_vec(&bytes).unwrap(),
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    #[test]
    fn replicas_shuffled_aaaa_empty_ptr_and_forward() {
        let networks = vec!["front".to_string()];
        let mut orders = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let message = reply(answer(
                &query("web.", RecordType::A),
                &table(),
                &networks,
                false,
            ));
            assert_eq!(message.id(), 42);
            assert_eq!(message.answers().len(), 3);
            assert!(message.answers().iter().all(|r| r.ttl() == 0));
            orders.insert(format!(
                "{:?}",
                message
                    .answers()
                    .iter()
                    .map(|r| r.data().to_string())
                    .collect::<Vec<_>>()
            ));
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
        assert!(orders.len() > 1, "replicas come in different orders");
        let aaaa = reply(answer(
            &query("web.", RecordType::AAAA),
            &table(),
            &networks,
            false,
        ));
        assert_eq!(
            (aaaa.response_code(), aaaa.answers().len()),
            (ResponseCode::NoError, 0)
        );
        let ptr = reply(answer(
            &query("3.0.0.10.in-addr.arpa.", RecordType::PTR),
            &table(),
            &networks,
            false,
        ));
        assert_eq!(ptr.answers()[0].data().to_string(), "web.");
        assert_eq!(
            answer(
                &query("example.com.", RecordType::A),
                &table(),
                &networks,
                false
            ),
            Answer::Forward
        );
        let internal = reply(answer(
            &query("example.com.", RecordType::A),
            &table(),
            &networks,
            true,
        ));
        assert_eq!(internal.response_code(), ResponseCode::NXDomain);
        let other_network = answer(
            &query("web.", RecordType::A),
            &table(),
            &["back".to_string()],
            false,
        );
        assert_eq!(other_network, Answer::Forward);
        assert_eq!(answer(b"garbage", &table(), &networks, false), Answer::Drop);
    }

    #[test]
    fn a_link_alias_answers_its_linking_container_only() {
        use crate::dns::table::DnsLink;
        let table = DnsTable::with_links(
            &[],
            &[DnsLink {
                asker: "web-id".into(),
                name: "database".into(),
                addresses: vec![Ipv4Addr::new(10, 0, 0, 9)],
            }],
        );
        let networks = vec!["front".to_string()];
        let asked = |asker: &str| {
            answer_for(
                asker,
                &query("database.", RecordType::A),
                &table,
                &networks,
                false,
            )
        };
        let message = reply(asked("web-id"));
        assert_eq!(message.answers()[0].data().to_string(), "10.0.0.9");
        assert_eq!(asked("db-id"), Answer::Forward);
    }
}
