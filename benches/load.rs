//! Benchmarks: load and validate a generated 200-service project (target: under
//! 20 ms). Run with `cargo bench --bench load`.

use std::fmt::Write;

fn main() {
    divan::main();
}

/// A project of `n` services that uses most attribute groups: ports, volumes,
/// environment, depends_on, healthchecks, networks, labels, deploy.
fn generated_project(n: usize) -> String {
    let mut y = String::from("name: bench\nx-common: &common\n  restart: unless-stopped\n  labels: [team=core]\nservices:\n");
    for i in 0..n {
        let _ = write!(
            y,
            "  svc{i}:\n    <<: *common\n    image: registry.local/app{i}:${{TAG:-1.0}}\n    command: [\"run\", \"--port\", \"{port}\"]\n    ports: [\"127.0.0.1:{port}:80\", \"{udp}:53/udp\"]\n    environment:\n      INDEX: \"{i}\"\n",
            port = 10000 + i,
            udp = 20000 + i,
        );
        let _ = write!(
            y,
            "      NAME: svc{i}\n    volumes: [\"data{v}:/data\", \"./conf/{i}:/etc/app:ro\"]\n    networks: [front, back]\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 10s\n    deploy:\n      resources:\n        limits: {{cpus: \"0.5\", memory: 256m}}\n",
            v = i % 10
        );
        if i > 0 {
            let _ = writeln!(
                y,
                "    depends_on:\n      svc{}:\n        condition: service_started",
                i - 1
            );
        }
    }
    y.push_str("networks:\n  front: {}\n  back: {internal: true}\nvolumes:\n");
    for v in 0..10 {
        let _ = writeln!(y, "  data{v}: {{}}");
    }
    y
}

#[divan::bench(args = [10, 200])]
fn load_and_validate(bencher: divan::Bencher, services: usize) {
    let text = generated_project(services);
    let dir = std::env::temp_dir();
    bencher.bench(|| {
        let loaded =
            berth::compose::load_from_str(divan::black_box(&text), &dir).expect("valid project");
        assert_eq!(loaded.project.services.len(), services);
        loaded
    });
}

/// The compatibility check `up` runs on every project before it plans
/// (target: well under the load itself).
#[divan::bench(args = [10, 200])]
fn compatibility_check(bencher: divan::Bencher, services: usize) {
    let text = generated_project(services);
    let project = berth::compose::load_from_str(&text, &std::env::temp_dir())
        .expect("valid project")
        .project;
    bencher.bench(|| {
        let findings = berth::compat::check_project(divan::black_box(&project), &[]);
        assert!(findings.errors.is_empty(), "{:?}", findings.errors);
        findings
    });
}
