//! Values berth cannot turn into a container, as a user meets them: `up`
//! refuses the project with a message naming the service, the field and the
//! value, and makes nothing (no network, no container), even for services
//! that are fine.

mod support;

use support::containers::{can_run_containers, isolated};
use support::project::{bridges, Project};

/// A project of a fine service and `web` with `attribute`.
fn compose(attribute: &str) -> String {
    format!(
        "name: refused
services:
  fine:
    image: berth.test/busybox:latest
    command: [sleep, '600']
  web:
    image: berth.test/busybox:latest
    depends_on: [fine]
    command: [sleep, '600']
    {attribute}
"
    )
}

/// `up -d` fails saying `expected`, and nothing is made.
fn assert_refused(p: &Project, expected: &str) {
    let out = p.berth(&["up", "-d"]);
    let err = support::stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains(expected), "{err}");
    assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
    assert!(bridges().is_empty(), "{:?}", bridges());
}

#[test]
fn an_sctp_port_or_unknown_network_mode_is_refused_before_anything_is_made() {
    if !can_run_containers() {
        eprintln!("skipping: needs root and user namespaces off");
        return;
    }
    isolated(
        "an_sctp_port_or_unknown_network_mode_is_refused_before_anything_is_made",
        || {
            let p = Project::new(&compose("ports: ['80:80/sctp']"));
            assert_refused(
                &p,
                "service \"web\": ports[0]: protocol \"sctp\" is not supported",
            );
            p.write(&compose("network_mode: bogus"));
            assert_refused(
                &p,
                "service \"web\": network_mode: \"bogus\" is not supported",
            );
        },
    );
}
