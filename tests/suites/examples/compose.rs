//! docker-compose.yaml: checked against the Makefile and envoy/envoy.yaml,
//! its container layout validated by the same Envoy version, and its services
//! run in containers built locally with Buildah and run with Podman.

use super::*;

// docker-compose.yaml: cannot run here (no Docker engine), so everything it
// relies on is checked instead.

/// Each compose service: (name, its profile, the demo configuration it runs,
/// the Makefile variable naming the artifact it mounts, the make target whose
/// command it runs).
const COMPOSE_SERVICES: [(&str, Option<&str>, &str, &str, &str); 2] = [
    ("envoy", None, "envoy/envoy.yaml", "WASM", "run"),
    (
        "envoy-native",
        Some("native"),
        "envoy/native.yaml",
        "MODULE",
        "run-native",
    ),
];

fn compose_services() -> Vec<(Value, &'static str, &'static str, &'static str)> {
    let compose = yaml("docker-compose.yaml");
    let services = compose["services"].as_object().unwrap();
    assert_eq!(
        services.len(),
        COMPOSE_SERVICES.len(),
        "one service per form: Envoy with its demo upstream inside"
    );
    COMPOSE_SERVICES
        .iter()
        .map(|(name, profile, config, artifact, target)| {
            let service = services
                .get(*name)
                .unwrap_or_else(|| panic!("docker-compose.yaml has no service {name}"))
                .clone();
            let profiles = service.get("profiles").cloned().unwrap_or(Value::Null);
            match profile {
                None => assert!(
                    profiles.is_null(),
                    "{name}: no profile, `docker compose up` runs it"
                ),
                Some(p) => assert_eq!(profiles, serde_json::json!([p]), "{name}"),
            }
            (service, *config, *artifact, *target)
        })
        .collect()
}

/// The arguments a make target passes to Envoy: its `exec $(ENVOY) ...` line.
fn make_exec_line(target: &str) -> String {
    let makefile = fs::read_to_string(common::root().join("Makefile")).unwrap();
    let recipe = makefile
        .split(&format!("\n{target}:"))
        .nth(1)
        .unwrap_or_else(|| panic!("Makefile has no target {target}"));
    recipe
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.trim().strip_prefix("exec $(ENVOY) "))
        .unwrap_or_else(|| panic!("Makefile's {target} target has no `exec $(ENVOY) ...` line"))
        .to_string()
}

/// (source, target) of each bind mount.
fn compose_mounts(service: &Value) -> Vec<(String, String)> {
    service["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert_eq!(v["type"], "bind", "{v}");
            assert_eq!(v["read_only"], true, "{v}");
            assert_eq!(v["bind"]["create_host_path"], false, "{v}");
            (
                v["source"].as_str().unwrap().to_string(),
                v["target"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn compose_command(service: &Value) -> Vec<String> {
    service["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn compose_pins_the_tested_envoy_and_runs_make_runs_command() {
    let version = makefile_var("ENVOY_VERSION");
    assert_eq!(version, "1.40.0");
    for (service, _, _, target) in compose_services() {
        assert_eq!(service["image"], format!("envoyproxy/envoy:v{version}"));
        // The command is the make target's, with the image's envoy.
        let command = compose_command(&service);
        assert_eq!(command[0], "envoy");
        assert_eq!(command[1..].join(" "), make_exec_line(target), "{target}");
        // The demo listens on loopback only: the container must share the host's network.
        assert_eq!(service["network_mode"], "host");
        assert!(
            service.get("ports").is_none(),
            "ports mean nothing with network_mode: host"
        );
    }
}

#[test]
fn compose_mounts_what_the_configuration_expects() {
    for (service, config, artifact, _) in compose_services() {
        let workdir = PathBuf::from(service["working_dir"].as_str().unwrap());
        let mounts = compose_mounts(&service);
        let target_of = |source: &str| {
            mounts
                .iter()
                .find(|(s, _)| s == source)
                .map(|(_, t)| PathBuf::from(t))
                .unwrap_or_else(|| {
                    panic!("docker-compose.yaml does not mount {source}: {mounts:?}")
                })
        };
        let command = compose_command(&service);
        let config_arg = &command[command.iter().position(|a| a == "-c").unwrap() + 1];
        // The configuration Envoy reads in the container is the repository's file...
        assert_eq!(workdir.join(config_arg), target_of(&format!("./{config}")));
        // ...whose module path resolves to the mounted artifact, where `make build` writes it.
        let demo = yaml(config);
        let filename = find_key(&demo, "filename").expect("the demo names no module file");
        let artifact = makefile_var(artifact);
        assert_eq!(format!("./{filename}"), format!("./{artifact}"));
        assert_eq!(workdir.join(&filename), target_of(&format!("./{artifact}")));
        assert_eq!(mounts.len(), 2, "{mounts:?}");
        // The demo upstream is inside the same configuration: the cluster points at one of its listeners.
        let listeners: Vec<u64> = demo["static_resources"]["listeners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                l["address"]["socket_address"]["port_value"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        for cluster in demo["static_resources"]["clusters"].as_array().unwrap() {
            let port = find_key(cluster, "port_value")
                .unwrap()
                .parse::<u64>()
                .unwrap();
            assert!(
                listeners.contains(&port),
                "cluster {} goes outside {config}",
                cluster["name"]
            );
        }
    }
}

/// The first value of `key` anywhere under `value`, as text.
fn find_key(value: &Value, key: &str) -> Option<String> {
    match value {
        Value::Object(map) => map
            .get(key)
            .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
            .or_else(|| map.values().find_map(|v| find_key(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

/// The container's file system, rebuilt from the compose mounts, validated by
/// the same Envoy version from the compose working directory.
#[test]
fn compose_container_layout_passes_envoy_validate() {
    for (service, config, _, _) in compose_services() {
        let scratch = Scratch::new("container");
        for (source, target) in compose_mounts(&service) {
            let inside = scratch.0.join(target.trim_start_matches('/'));
            fs::create_dir_all(inside.parent().unwrap()).unwrap();
            fs::copy(common::root().join(&source), &inside)
                .unwrap_or_else(|e| panic!("{source}: {e}"));
        }
        let workdir = scratch.0.join(
            service["working_dir"]
                .as_str()
                .unwrap()
                .trim_start_matches('/'),
        );
        let (ok, output) = envoy_validate(Path::new(config), &workdir);
        assert!(ok, "the container's {config} does not validate:\n{output}");
        assert!(
            output.contains(&format!("configuration '{config}' OK")),
            "{output}"
        );
    }
}

#[test]
fn readme_docker_section_uses_compose_and_the_make_run_commands() {
    let section = examples::readme_section("Docker");
    for want in [
        "make build",
        "docker compose up",
        "docker compose --profile native up envoy-native",
        "sh envoy/demo-requests.sh",
        "network_mode: host",
        "glibc",
    ] {
        assert!(
            section.contains(want),
            "README's Docker section lacks {want:?}"
        );
    }
}

/// The compose services for real, in containers: an image like the official
/// `envoyproxy/envoy` one is built locally with Buildah under the compose
/// file's tag (no registry is reachable: `FROM scratch` with the pinned Envoy
/// and the shared libraries it and the module need), then each service runs
/// with Podman as the compose file writes it (image, network, working
/// directory, read-only mounts, limits, command), its demo answers the
/// README's three commands exactly, and it is stopped and removed. The one
/// liberty: the mounted demo configuration has its ports moved to free ones.
#[test]
fn compose_services_run_in_containers_and_answer_as_the_readme_shows() {
    for tool in ["podman", "buildah"] {
        assert!(
            Command::new(tool).arg("--version").output().is_ok(),
            "{tool} is missing: apt-get install podman runc buildah"
        );
    }
    let services = compose_services();
    let image = services[0].0["image"].as_str().unwrap().to_string();
    let started = Instant::now();
    build_envoy_image(&image);
    eprintln!(
        "compose: built {image} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for (service, config, _, _) in services {
        let name = format!("cors-compose-test-{}", std::process::id());
        let (front, upstream, admin) = (
            examples::free_port(),
            examples::free_port(),
            examples::free_port(),
        );
        let scratch = Scratch::new("compose");
        let moved = scratch.path("demo.yaml");
        fs::write(
            &moved,
            examples::demo_on_ports(config, front, upstream, admin),
        )
        .unwrap();
        let run_started = Instant::now();
        let container = Container::run(&name, &podman_run_args(&service, config, &moved));
        container.wait_ready(admin);
        eprintln!(
            "compose: {config} started in {:.1} s",
            run_started.elapsed().as_secs_f64()
        );
        let answers = examples::demo_answers_as_the_readme_shows(front);
        eprintln!("compose: {config} answered {answers:?}");
        drop(container);
        let left = container_tool("podman")
            .args(["ps", "-a", "-q", "--filter", &format!("name={name}")])
            .output()
            .unwrap();
        assert!(left.stdout.is_empty(), "container {name} was not removed");
        eprintln!("compose: {config} stopped and removed");
    }
    eprintln!(
        "compose: both services in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    remove_image(&image);
}

fn remove_image(tag: &str) {
    let _ = container_tool("buildah").args(["rmi", "-f", tag]).output();
}

/// The image: the Envoy binary the tests run, at `/usr/local/bin/envoy` as in
/// the official image, with every shared library it and the module load.
fn build_envoy_image(tag: &str) {
    let envoy = common::envoy::real_binary(&common::envoy::binary());
    let version = Command::new(&envoy).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    let wanted = tag.rsplit(":v").next().unwrap();
    assert!(
        version.contains(&format!("/{wanted}/")),
        "the image {tag} must hold Envoy {wanted}: {version}"
    );
    let scratch = Scratch::new("image");
    let rootfs = scratch.path("rootfs");
    let copy = |from: &Path, to: &str| {
        let target = rootfs.join(to.trim_start_matches('/'));
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(from, &target).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    };
    copy(&envoy, "/usr/local/bin/envoy");
    let module = common::form::Form::Module.artifact();
    for binary in [&envoy, &module] {
        let ldd = Command::new("ldd").arg(binary).output().unwrap();
        for library in String::from_utf8_lossy(&ldd.stdout)
            .split_whitespace()
            .filter(|word| word.starts_with('/'))
        {
            copy(&fs::canonicalize(library).unwrap(), library);
        }
    }
    fs::write(
        scratch.path("Containerfile"),
        "FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin\n",
    )
    .unwrap();
    // Tagged with the compose file's short name: Buildah qualifies it the way
    // Podman then looks the short name up in local storage. The last run's
    // image goes first, so that runs do not pile up untagged images.
    remove_image(tag);
    let output = container_tool("buildah")
        .args(["bud", "-q", "-t", tag, "-f"])
        .arg(scratch.path("Containerfile"))
        .arg(&scratch.0)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "buildah bud failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `buildah` or `podman`, run so that "/" is a mount point (see
/// tests/own-mount-root.sh): what containers/storage needs to unpack layers.
pub(super) fn container_tool(name: &str) -> Command {
    let mut command = Command::new(common::root().join("tests/own-mount-root.sh"));
    command.arg(name);
    command
}

/// `podman run` for a compose service, from its settings, with the demo
/// configuration mounted from `moved` instead of the repository's `config`.
/// Every key of the service is either translated or refused, so the file
/// cannot say something this test ignores.
fn podman_run_args(service: &Value, config: &str, moved: &Path) -> Vec<String> {
    let known = [
        "image",
        "profiles",
        "network_mode",
        "working_dir",
        "volumes",
        "ulimits",
        "command",
    ];
    for key in service.as_object().unwrap().keys() {
        assert!(
            known.contains(&key.as_str()),
            "compose key {key} is not run by this test"
        );
    }
    // This machine's kernel needs runc (crun fails on its cgroup layout).
    let mut args: Vec<String> = vec!["--runtime".into(), "runc".into()];
    if let Some(network) = service["network_mode"].as_str() {
        args.extend(["--network".into(), network.into()]);
    }
    args.extend(["-w".into(), service["working_dir"].as_str().unwrap().into()]);
    for (source, target) in compose_mounts(service) {
        let source = if source == format!("./{config}") {
            moved.to_path_buf()
        } else {
            common::root().join(&source)
        };
        args.extend([
            "--mount".into(),
            format!(
                "type=bind,source={},target={target},readonly",
                source.display()
            ),
        ]);
    }
    for (name, limit) in service["ulimits"].as_object().unwrap() {
        let (soft, hard) = match limit {
            Value::Object(l) => (l["soft"].clone(), l["hard"].clone()),
            single => (single.clone(), single.clone()),
        };
        args.extend(["--ulimit".into(), format!("{name}={soft}:{hard}")]);
    }
    args.push(service["image"].as_str().unwrap().into());
    args.extend(compose_command(service));
    args
}

/// A running container, stopped and removed when dropped.
struct Container {
    name: String,
}

impl Container {
    fn run(name: &str, args: &[String]) -> Container {
        let _ = container_tool("podman").args(["rm", "-f", name]).output();
        let output = container_tool("podman")
            .args(["run", "-d", "--name", name])
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "podman run {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Container {
            name: name.to_string(),
        }
    }

    /// Waits (at most 60 s) for Envoy's admin to say it is ready.
    fn wait_ready(&self, admin: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready =
                common::http::send_raw(admin, &Request::get("/ready").to_bytes("localhost"));
            if ready.is_ok_and(|r| r.status == 200) {
                return;
            }
            if Instant::now() > deadline {
                let logs = container_tool("podman")
                    .args(["logs", &self.name])
                    .output()
                    .unwrap();
                panic!(
                    "the container {} was not ready within 60 s:\n{}",
                    self.name,
                    String::from_utf8_lossy(&logs.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = container_tool("podman")
            .args(["rm", "-f", "-t", "2", &self.name])
            .output();
    }
}
