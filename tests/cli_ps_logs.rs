//! `berth ps` and `berth logs` over containers made from a project's services
//! (translated and started through the library, as `up` will).

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use berth::compose::{load, LoadOptions};
use berth::reconcile::{translate, DesiredState};
use berth_runtime::container::Runtime;
use berth_runtime::image::ImageStore;
use support::containers::{can_run_containers, isolated};

const PROJECT: &str = "name: demo\nservices:\n  web:\n    image: berth.test/busybox:latest\n    command: [sh, -c, 'echo hello from web; echo oops >&2; sleep 30']\n  job:\n    image: berth.test/busybox:latest\n    command: [sh, -c, 'echo done; exit 3']\n";

#[test]
fn ps_and_logs_show_the_projects_containers() {
    if !can_run_containers() {
        return;
    }
    isolated("ps_and_logs_show_the_projects_containers", || {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        support::load_fixture_images(&root, &tmp.path().join("images"));
        let project_dir = tmp.path().join("demo");
        std::fs::create_dir_all(&project_dir).unwrap();
        std::fs::write(project_dir.join("compose.yaml"), PROJECT).unwrap();
        let project = load(&LoadOptions {
            files: vec![project_dir.join("compose.yaml")],
            cwd: project_dir.clone(),
            interpolate: true,
            ..LoadOptions::default()
        })
        .unwrap()
        .project;
        let store = ImageStore::open(&root).unwrap();
        let runtime = Runtime::with_helper(&root, support::containers::berth_bin());
        let desired = DesiredState::from_project(&project, &BTreeMap::new(), &BTreeMap::new());
        let host = translate::HostFacts::detect(&project);
        for (name, service) in &project.services {
            let container_name = desired.container_name(&desired.services[name], 1);
            let t = translate::container_spec(&project, name, service, 1, &container_name, &host)
                .unwrap();
            let image = store.resolve("berth.test/busybox:latest").unwrap();
            let record = runtime
                .create(t.spec, &image, Some("berth.test/busybox:latest"))
                .unwrap();
            runtime.start(&record.id).unwrap();
        }
        runtime
            .wait("demo-job-1", Some(Duration::from_secs(10)))
            .unwrap();
        let berth = |args: &[&str]| {
            let mut all = vec!["--project-directory", project_dir.to_str().unwrap()];
            all.extend_from_slice(args);
            support::berth(&root, &all, &[])
        };
        let ps = support::ok(berth(&["ps"]));
        let lines: Vec<&str> = ps.lines().collect();
        assert!(lines[0].starts_with("NAME"), "{ps}");
        assert_eq!(lines.len(), 2, "only the running one by default: {ps}");
        assert!(
            lines[1].starts_with("demo-web-1") && lines[1].contains("Up "),
            "{ps}"
        );
        let all = support::ok(berth(&["ps", "-a"]));
        assert!(
            all.contains("demo-job-1") && all.contains("Exited (3)"),
            "{all}"
        );
        assert_eq!(
            support::ok(berth(&["ps", "-a", "--services"])),
            "job\nweb\n"
        );
        let json = support::ok(berth(&["ps", "-a", "--format", "json"]));
        assert_eq!(json.lines().count(), 2);
        assert!(
            json.contains("\"Service\":\"job\"") && json.contains("\"ExitCode\":3"),
            "{json}"
        );

        // Wait for web's output, then read it with prefixes.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let logs = support::ok(berth(&["logs", "web"]));
            if logs.contains("oops") {
                assert_eq!(logs, "web-1  | hello from web\nweb-1  | oops\n");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{logs}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let logs = support::ok(berth(&["logs", "--no-log-prefix", "job"]));
        assert_eq!(logs, "done\n");
        let tail = support::ok(berth(&["logs", "--tail", "1", "web"]));
        assert_eq!(tail, "web-1  | oops\n");
        // stop / start / kill / rm / down over the same containers.
        support::ok(berth(&["stop", "-t", "1", "web"]));
        assert!(support::ok(berth(&["ps", "-a"])).contains("Exited (137)"));
        support::ok(berth(&["start", "web"]));
        assert!(support::ok(berth(&["ps"])).contains("demo-web-1"));
        support::ok(berth(&["kill", "-s", "KILL", "web"]));
        runtime
            .wait("demo-web-1", Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(support::ok(berth(&["ps", "-q"])), "");
        support::ok(berth(&["rm", "-f", "job"]));
        assert!(!support::ok(berth(&["ps", "-a"])).contains("demo-job-1"));
        support::ok(berth(&["start"]));
        support::ok(berth(&["down", "-t", "1"]));
        assert_eq!(support::ok(berth(&["ps", "-a", "-q"])), "");
        assert!(runtime.list().unwrap().is_empty());
    });
}
