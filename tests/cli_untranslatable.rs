//! Values berth cannot turn into a container, as a user meets them: `up`
//! refuses the project with a message naming the service, the field and the
//! value, and makes nothing (no network, no container), even for services
//! that are fine.

mod support;

use support::containers::{can_run_containers, isolated};
use support::project::{bridges, Project};

#[test]
fn an_sctp_port_or_unknown_network_mode_is_refused_before_anything_is_made() {
    if !can_run_containers() {
        eprintln!("skipping: needs root and user namespaces off");
        return;
    }
    isolated(
        "an_sctp_port_or_unknown_network_mode_is_refused_before_anything_is_made",
        || {
            let p = Project::new(
                "name: refused
services:
  fine:
    image: berth.test/busybox:latest
    command: [sleep, '600']
  web:
    image: berth.test/busybox:latest
    depends_on: [fine]
    command: [sleep, '600']
    ports: ['80:80/sctp']
",
            );
            let out = p.berth(&["up", "-d"]);
            let err = support::stderr(&out);
            assert!(!out.status.success(), "{err}");
            assert!(
                err.contains("service \"web\": ports[0]: protocol \"sctp\" is not supported"),
                "{err}"
            );
            assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
            assert!(bridges().is_empty(), "{:?}", bridges());

            p.write(
                "name: refused
services:
  fine:
    image: berth.test/busybox:latest
    command: [sleep, '600']
  web:
    image: berth.test/busybox:latest
    network_mode: bogus
",
            );
            let out = p.berth(&["up", "-d"]);
            let err = support::stderr(&out);
            assert!(!out.status.success(), "{err}");
            assert!(
                err.contains("service \"web\": network_mode: \"bogus\" is not supported"),
                "{err}"
            );
            assert_eq!(p.ok(&["ps", "-a", "-q"]), "");
            assert!(bridges().is_empty(), "{:?}", bridges());
        },
    );
}
