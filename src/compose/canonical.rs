//! Rewrites every short syntax of one file's tree into its long form, before
//! files are merged (so `ports`, `volumes`, `environment`… merge by key) and
//! before typed decoding. Relative host paths become absolute against the
//! directory the file's paths are relative to.

use super::error::Problem;
use super::paths::PathResolver;
use super::syntax;
use super::yaml::{Mapping, Node, NodePath, Resolved, Span, Value};

type Result<T> = std::result::Result<T, Problem>;

/// Canonicalizes a whole file (top-level services, networks, volumes, secrets, configs, include).
pub fn canonicalize_file(root: &mut Node, paths: &PathResolver) -> Result<()> {
    let root_path = NodePath::root();
    let Value::Map(top) = &mut root.value else {
        return Err(Problem::new(
            root.span,
            root_path,
            format!(
                "top-level object must be a mapping, got a {}",
                root.kind_name()
            ),
        ));
    };
    if let Some(services) = top.get_mut("services") {
        let path = root_path.key("services");
        if !services.is_null() {
            let map = expect_map_mut(services, &path)?;
            for (name, service) in map.iter_mut() {
                canonicalize_service(service, &path.key(name), paths)?;
            }
        }
    }
    for kind in ["networks", "volumes", "secrets", "configs"] {
        let Some(section) = top.get_mut(kind) else {
            continue;
        };
        let path = root_path.key(kind);
        if section.is_null() {
            continue;
        }
        for (name, resource) in expect_map_mut(section, &path)?.iter_mut() {
            let rpath = path.key(name);
            canonicalize_resource(resource, &rpath)?;
            match kind {
                "volumes" => resolve_bind_device(resource, &rpath, paths)?,
                "secrets" | "configs" => {
                    if let Some(file) = resource.as_map_mut().and_then(|m| m.get_mut("file")) {
                        resolve_path_node(file, &rpath.key("file"), paths)?;
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(include) = top.get_mut("include") {
        canonicalize_include(include, &root_path.key("include"))?;
    }
    Ok(())
}

/// Canonicalizes one service definition in place.
pub fn canonicalize_service(
    service: &mut Node,
    path: &NodePath,
    paths: &PathResolver,
) -> Result<()> {
    if service.is_null() {
        *service = Node::map(Mapping::new(), service.span);
    }
    let map = expect_map_mut(service, path)?;
    for (key, value) in map.iter_mut() {
        // Rewriting a short form must keep `!reset` / `!override`.
        let tag = value.tag.clone();
        canonicalize_service_attribute(key, value, path, paths)?;
        if value.tag.is_none() {
            value.tag = tag;
        }
    }
    Ok(())
}

fn canonicalize_service_attribute(
    key: &str,
    value: &mut Node,
    path: &NodePath,
    paths: &PathResolver,
) -> Result<()> {
    {
        let vpath = path.key(key);
        if value.is_null() && !matches!(key, "command" | "entrypoint") {
            return Ok(());
        }
        match key {
            "build" => canonicalize_build(value, &vpath, paths)?,
            "command" | "entrypoint" => canonicalize_command(value, &vpath)?,
            "environment" => to_env_map(value, &vpath)?,
            "env_file" => canonicalize_env_file(value, &vpath, paths)?,
            "label_file" => {
                string_to_list(value);
                for (i, item) in seq_mut(value, &vpath)?.iter_mut().enumerate() {
                    resolve_path_node(item, &vpath.index(i), paths)?;
                }
            }
            "labels" | "annotations" | "sysctls" => to_string_map(value, &vpath)?,
            "ports" => canonicalize_ports(value, &vpath)?,
            "expose" | "group_add" => scalars_to_strings(value, &vpath)?,
            "volumes" => canonicalize_volumes(value, &vpath, paths)?,
            "tmpfs" | "dns" | "dns_search" => string_to_list(value),
            "extra_hosts" => canonicalize_extra_hosts(value, &vpath)?,
            "depends_on" => canonicalize_depends_on(value, &vpath)?,
            "networks" => canonicalize_service_networks(value, &vpath)?,
            "healthcheck" => canonicalize_healthcheck(value, &vpath)?,
            "devices" => canonicalize_devices(value, &vpath)?,
            "secrets" | "configs" => canonicalize_file_refs(value, &vpath)?,
            "extends" => wrap_scalar(value, "service"),
            "deploy" => canonicalize_deploy(value, &vpath)?,
            "gpus" => canonicalize_gpus(value, &vpath)?,
            "develop" => canonicalize_develop(value, &vpath, paths)?,
            "post_start" | "pre_stop" => {
                for (i, hook) in seq_mut(value, &vpath)?.iter_mut().enumerate() {
                    canonicalize_hook(hook, &vpath.index(i))?;
                }
            }
            "logging" => {
                if let Some(opts) = value.as_map_mut().and_then(|m| m.get_mut("options")) {
                    to_string_map(opts, &vpath.key("options"))?;
                }
            }
            "storage_opt" => to_string_map(value, &vpath)?,
            _ => {}
        }
    }
    Ok(())
}

fn canonicalize_build(value: &mut Node, path: &NodePath, paths: &PathResolver) -> Result<()> {
    wrap_scalar(value, "context");
    let map = expect_map_mut(value, path)?;
    if let Some(context) = map.get_mut("context") {
        if let Some(text) = context.as_str() {
            if !is_remote_context(text) {
                resolve_path_node(context, &path.key("context"), paths)?;
            }
        }
    }
    for (key, value) in map.iter_mut() {
        let vpath = path.key(key);
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "args" => to_env_map(value, &vpath)?,
            "labels" => to_string_map(value, &vpath)?,
            "additional_contexts" => {
                to_string_map(value, &vpath)?;
                if let Some(m) = value.as_map_mut() {
                    for (name, ctx) in m.iter_mut() {
                        if ctx.as_str().is_some_and(|t| !t.contains("://")) {
                            resolve_path_node(ctx, &vpath.key(name), paths)?;
                        }
                    }
                }
            }
            "extra_hosts" => canonicalize_extra_hosts(value, &vpath)?,
            "secrets" => canonicalize_file_refs(value, &vpath)?,
            "ssh" if value.as_map().is_some() => {
                let span = value.span;
                let entries = value
                    .as_map()
                    .map(|m| {
                        m.iter()
                            .map(|(id, path)| match path.as_str() {
                                Some(p) if !p.is_empty() => Node::string(format!("{id}={p}"), span),
                                _ => Node::string(id.clone(), span),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                *value = Node::seq(entries, span);
            }
            "cache_from" | "cache_to" | "tags" | "platforms" | "ssh" | "entitlements" => {
                string_to_list(value)
            }
            _ => {}
        }
    }
    Ok(())
}

fn is_remote_context(text: &str) -> bool {
    text.contains("://")
        || text.starts_with("git@")
        || text.starts_with("github.com/")
        || text.starts_with("docker-image:")
        || text.starts_with("service:")
}

fn canonicalize_command(value: &mut Node, path: &NodePath) -> Result<()> {
    match &value.value {
        Value::Null => Ok(()),
        Value::Scalar(s) => {
            let words = syntax::shell::split_command(&s.text)
                .map_err(|e| Problem::new(value.span, path.clone(), e))?;
            let span = value.span;
            *value = Node::seq(
                words.into_iter().map(|w| Node::string(w, span)).collect(),
                span,
            );
            Ok(())
        }
        Value::Seq(_) => scalars_to_strings(value, path),
        Value::Map(_) => Err(expected(value, path, "a string or a list of strings")),
    }
}

fn canonicalize_env_file(value: &mut Node, path: &NodePath, paths: &PathResolver) -> Result<()> {
    string_to_list(value);
    for (i, item) in seq_mut(value, path)?.iter_mut().enumerate() {
        let ipath = path.index(i);
        wrap_scalar(item, "path");
        let entry = expect_map_mut(item, &ipath)?;
        match entry.get_mut("path") {
            Some(p) => resolve_path_node(p, &ipath.key("path"), paths)?,
            None => {
                return Err(Problem::new(
                    item.span,
                    ipath,
                    "env_file entry needs a path",
                ))
            }
        }
    }
    Ok(())
}

fn canonicalize_ports(value: &mut Node, path: &NodePath) -> Result<()> {
    let items = seq_mut(value, path)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in std::mem::take(items).into_iter().enumerate() {
        let ipath = path.index(i);
        match &item.value {
            Value::Scalar(s) => {
                let parsed = syntax::port::parse_port(&s.text)
                    .map_err(|e| Problem::new(item.span, ipath.clone(), e.to_string()))?;
                for port in parsed {
                    let mut m = Mapping::new();
                    m.insert("mode", Node::string("ingress", item.span));
                    if let Some(ip) = port.host_ip {
                        m.insert("host_ip", Node::string(ip, item.span));
                    }
                    m.insert("target", Node::plain(port.target.to_string(), item.span));
                    if let Some(published) = port.published {
                        m.insert("published", Node::string(published, item.span));
                    }
                    m.insert("protocol", Node::string(port.protocol, item.span));
                    out.push(Node::map(m, item.span));
                }
            }
            Value::Map(_) => {
                let mut item = item;
                if let Some(m) = item.as_map_mut() {
                    if let Some(p) = m.get_mut("published") {
                        scalar_to_string(p);
                    }
                }
                out.push(item);
            }
            _ => return Err(expected(&item, &ipath, "a port string or a port mapping")),
        }
    }
    *items = out;
    Ok(())
}

fn canonicalize_volumes(value: &mut Node, path: &NodePath, paths: &PathResolver) -> Result<()> {
    for (i, item) in seq_mut(value, path)?.iter_mut().enumerate() {
        let ipath = path.index(i);
        if let Value::Scalar(s) = &item.value {
            let parsed = syntax::volume::parse_volume(&s.text)
                .map_err(|e| Problem::new(item.span, ipath.clone(), e.to_string()))?;
            *item = volume_node(parsed, item.span);
        }
        let span = item.span;
        let map = expect_map_mut(item, &ipath)?;
        let kind = map
            .get("type")
            .and_then(Node::as_str)
            .unwrap_or("volume")
            .to_string();
        if kind == "npipe" {
            return Err(Problem::new(
                span,
                ipath,
                "npipe volumes are only supported on Windows; berth runs on Linux",
            ));
        }
        if kind == "bind" {
            if let Some(source) = map.get_mut("source") {
                resolve_path_node(source, &ipath.key("source"), paths)?;
            }
        }
        if let Some(target) = map.get_mut("target") {
            if let Some(text) = target.as_str() {
                let cleaned = super::paths::clean_container_path(text);
                *target = Node::string(cleaned, target.span);
            }
        }
    }
    Ok(())
}

fn volume_node(v: syntax::volume::ParsedVolume, span: Span) -> Node {
    use syntax::volume::VolumeKind;
    let mut m = Mapping::new();
    let kind = match v.kind {
        VolumeKind::Bind => "bind",
        VolumeKind::Volume => "volume",
    };
    m.insert("type", Node::string(kind, span));
    if let Some(source) = &v.source {
        m.insert("source", Node::string(source.clone(), span));
    }
    m.insert("target", Node::string(v.target.clone(), span));
    if v.read_only {
        m.insert("read_only", Node::plain("true", span));
    }
    if v.has_bind_options() {
        let mut bind = Mapping::new();
        if let Some(p) = &v.propagation {
            bind.insert("propagation", Node::string(p.clone(), span));
        }
        if v.kind == VolumeKind::Bind {
            bind.insert("create_host_path", Node::plain("true", span));
        }
        if let Some(se) = &v.selinux {
            bind.insert("selinux", Node::string(se.clone(), span));
        }
        m.insert("bind", Node::map(bind, span));
    }
    if v.has_volume_options {
        let mut vol = Mapping::new();
        if v.nocopy {
            vol.insert("nocopy", Node::plain("true", span));
        }
        m.insert("volume", Node::map(vol, span));
    }
    Node::map(m, span)
}

fn canonicalize_extra_hosts(value: &mut Node, path: &NodePath) -> Result<()> {
    let span = value.span;
    let mut entries = Vec::new();
    match &value.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let text = scalar_text(item, &path.index(i))?;
                let hosts = syntax::extra_hosts::parse_extra_host(text)
                    .map_err(|e| Problem::new(item.span, path.index(i), e))?;
                entries.extend(hosts.iter().map(|h| Node::string(h.to_string(), item.span)));
            }
        }
        Value::Map(map) => {
            for (host, ips) in map.iter() {
                match &ips.value {
                    Value::Seq(list) => {
                        for (i, ip) in list.iter().enumerate() {
                            let ip = scalar_text(ip, &path.key(host).index(i))?;
                            entries.push(Node::string(format!("{host}={ip}"), span));
                        }
                    }
                    _ => {
                        let ip = scalar_text(ips, &path.key(host))?;
                        entries.push(Node::string(format!("{host}={ip}"), span));
                    }
                }
            }
        }
        _ => {
            return Err(expected(
                value,
                path,
                "a list or a mapping of host names to addresses",
            ))
        }
    }
    *value = Node::seq(entries, span);
    Ok(())
}

/// A list of names (`[db, cache]`) becomes a mapping of each name to `empty(span)`.
fn names_to_map(value: &mut Node, path: &NodePath, empty: fn(Span) -> Node) -> Result<()> {
    if let Value::Seq(items) = &value.value {
        let mut m = Mapping::new();
        for (i, item) in items.iter().enumerate() {
            let name = scalar_text(item, &path.index(i))?;
            m.insert(name.to_string(), empty(item.span));
        }
        *value = Node::map(m, value.span);
    }
    Ok(())
}

fn canonicalize_depends_on(value: &mut Node, path: &NodePath) -> Result<()> {
    names_to_map(value, path, |span| Node::map(Mapping::new(), span))?;
    let map = expect_map_mut(value, path)?;
    for (name, dep) in map.iter_mut() {
        if dep.is_null() {
            *dep = Node::map(Mapping::new(), dep.span);
        }
        let dspan = dep.span;
        let d = expect_map_mut(dep, &path.key(name))?;
        if !d.contains_key("condition") {
            d.insert("condition", Node::string("service_started", dspan));
        }
        if !d.contains_key("required") {
            d.insert("required", Node::plain("true", dspan));
        }
    }
    Ok(())
}

fn canonicalize_service_networks(value: &mut Node, path: &NodePath) -> Result<()> {
    names_to_map(value, path, Node::null)?;
    let map = expect_map_mut(value, path)?;
    for (name, net) in map.iter_mut() {
        if let Some(m) = net.as_map_mut() {
            if let Some(aliases) = m.get_mut("aliases") {
                string_to_list(aliases);
            }
            if let Some(opts) = m.get_mut("driver_opts") {
                to_string_map(opts, &path.key(name).key("driver_opts"))?;
            }
        }
    }
    Ok(())
}

fn canonicalize_healthcheck(value: &mut Node, path: &NodePath) -> Result<()> {
    let map = expect_map_mut(value, path)?;
    if let Some(test) = map.get_mut("test") {
        if let Value::Scalar(s) = &test.value {
            let span = test.span;
            let text = s.text.clone();
            let items = if text == "NONE" {
                vec![Node::string("NONE", span)]
            } else {
                vec![Node::string("CMD-SHELL", span), Node::string(text, span)]
            };
            *test = Node::seq(items, span);
        } else if test.as_seq().is_some() {
            scalars_to_strings(test, &path.key("test"))?;
        }
    }
    Ok(())
}

fn canonicalize_devices(value: &mut Node, path: &NodePath) -> Result<()> {
    for (i, item) in seq_mut(value, path)?.iter_mut().enumerate() {
        if let Value::Scalar(s) = &item.value {
            let span = item.span;
            let parts: Vec<&str> = s.text.split(':').collect();
            let (source, target, perms) = match parts.as_slice() {
                [src] => (*src, *src, "rwm"),
                [src, dst] => (*src, *dst, "rwm"),
                [src, dst, perms] => (*src, *dst, *perms),
                _ => {
                    return Err(Problem::new(
                        span,
                        path.index(i),
                        format!(
                        "invalid device {:?}: expected HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]]",
                        s.text
                    ),
                    ))
                }
            };
            if source.is_empty() {
                return Err(Problem::new(
                    span,
                    path.index(i),
                    format!("invalid device {:?}: the host path is empty", s.text),
                ));
            }
            let mut m = Mapping::new();
            m.insert("source", Node::string(source, span));
            m.insert(
                "target",
                Node::string(if target.is_empty() { source } else { target }, span),
            );
            m.insert("permissions", Node::string(perms, span));
            *item = Node::map(m, span);
        }
    }
    Ok(())
}

fn canonicalize_file_refs(value: &mut Node, path: &NodePath) -> Result<()> {
    seq_mut(value, path)?
        .iter_mut()
        .for_each(|item| wrap_scalar(item, "source"));
    Ok(())
}

fn canonicalize_deploy(value: &mut Node, path: &NodePath) -> Result<()> {
    let map = expect_map_mut(value, path)?;
    if let Some(labels) = map.get_mut("labels") {
        to_string_map(labels, &path.key("labels"))?;
    }
    let Some(resources) = map.get_mut("resources").and_then(Node::as_map_mut) else {
        return Ok(());
    };
    for kind in ["limits", "reservations"] {
        let Some(devices) = resources
            .get_mut(kind)
            .and_then(Node::as_map_mut)
            .and_then(|m| m.get_mut("devices"))
            .and_then(Node::as_seq_mut)
        else {
            continue;
        };
        for device in devices.iter_mut() {
            if let Some(count) = device.as_map_mut().and_then(|m| m.get_mut("count")) {
                if count.as_str() == Some("all") {
                    *count = Node::plain("-1", count.span);
                }
            }
        }
    }
    Ok(())
}

fn canonicalize_gpus(value: &mut Node, path: &NodePath) -> Result<()> {
    if value.as_str() == Some("all") {
        let span = value.span;
        let mut m = Mapping::new();
        m.insert("count", Node::plain("-1", span));
        *value = Node::seq(vec![Node::map(m, span)], span);
        return Ok(());
    }
    for item in seq_mut(value, path)?.iter_mut() {
        if let Some(count) = item.as_map_mut().and_then(|m| m.get_mut("count")) {
            if count.as_str() == Some("all") {
                *count = Node::plain("-1", count.span);
            }
        }
    }
    Ok(())
}

fn canonicalize_develop(value: &mut Node, path: &NodePath, paths: &PathResolver) -> Result<()> {
    let map = expect_map_mut(value, path)?;
    let Some(watch) = map.get_mut("watch") else {
        return Ok(());
    };
    let wpath = path.key("watch");
    for (i, rule) in seq_mut(watch, &wpath)?.iter_mut().enumerate() {
        let rpath = wpath.index(i);
        let r = expect_map_mut(rule, &rpath)?;
        if let Some(p) = r.get_mut("path") {
            resolve_path_node(p, &rpath.key("path"), paths)?;
        }
        for key in ["ignore", "include"] {
            if let Some(list) = r.get_mut(key) {
                string_to_list(list);
            }
        }
        if let Some(exec) = r.get_mut("exec") {
            canonicalize_hook(exec, &rpath.key("exec"))?;
        }
    }
    Ok(())
}

fn canonicalize_hook(hook: &mut Node, path: &NodePath) -> Result<()> {
    let map = expect_map_mut(hook, path)?;
    if let Some(command) = map.get_mut("command") {
        canonicalize_command(command, &path.key("command"))?;
    }
    if let Some(env) = map.get_mut("environment") {
        to_env_map(env, &path.key("environment"))?;
    }
    Ok(())
}

/// Top-level network/volume/secret/config: labels and driver_opts as string
/// maps, the legacy `external: {name: x}` form turned into `external: true` + `name`.
fn canonicalize_resource(resource: &mut Node, path: &NodePath) -> Result<()> {
    if resource.is_null() {
        return Ok(());
    }
    let map = expect_map_mut(resource, path)?;
    for key in ["labels", "driver_opts"] {
        if let Some(v) = map.get_mut(key) {
            if !v.is_null() {
                to_string_map(v, &path.key(key))?;
            }
        }
    }
    if let Some(external) = map.get("external") {
        if let Some(ext) = external.as_map() {
            let span = external.span;
            let name = ext.get("name").cloned();
            map.insert("external", Node::plain("true", span));
            if let Some(name) = name {
                map.insert("name", name);
            }
        }
    }
    if let Some(ipam) = map.get_mut("ipam").and_then(Node::as_map_mut) {
        if let Some(opts) = ipam.get_mut("options") {
            to_string_map(opts, &path.key("ipam").key("options"))?;
        }
        if let Some(config) = ipam.get_mut("config").and_then(Node::as_seq_mut) {
            for (i, pool) in config.iter_mut().enumerate() {
                if let Some(aux) = pool.as_map_mut().and_then(|m| m.get_mut("aux_addresses")) {
                    to_string_map(
                        aux,
                        &path.key("ipam").key("config").index(i).key("aux_addresses"),
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// A local volume with `o: bind` names a host directory in `device`: resolve it.
fn resolve_bind_device(resource: &mut Node, path: &NodePath, paths: &PathResolver) -> Result<()> {
    let Some(opts) = resource
        .as_map_mut()
        .and_then(|m| m.get_mut("driver_opts"))
        .and_then(Node::as_map_mut)
    else {
        return Ok(());
    };
    let is_bind = opts
        .get("o")
        .and_then(Node::as_str)
        .is_some_and(|o| o.split(',').any(|p| p == "bind"));
    if let (true, Some(device)) = (is_bind, opts.get_mut("device")) {
        resolve_path_node(device, &path.key("driver_opts").key("device"), paths)?;
    }
    Ok(())
}

fn canonicalize_include(value: &mut Node, path: &NodePath) -> Result<()> {
    for (i, item) in seq_mut(value, path)?.iter_mut().enumerate() {
        let ipath = path.index(i);
        wrap_scalar(item, "path");
        let entry = expect_map_mut(item, &ipath)?;
        for key in ["path", "env_file"] {
            if let Some(v) = entry.get_mut(key) {
                string_to_list(v);
            }
        }
    }
    Ok(())
}

// ---- helpers -------------------------------------------------------------

/// `KEY=VAL` lists and mappings -> a mapping of strings; a bare `KEY` (or a
/// null value) stays null so it can be taken from the environment later.
pub fn to_env_map(value: &mut Node, path: &NodePath) -> Result<()> {
    to_map(value, path, true)
}

/// Like [`to_env_map`], but a bare key gets the empty string (labels, sysctls).
pub fn to_string_map(value: &mut Node, path: &NodePath) -> Result<()> {
    to_map(value, path, false)
}

fn to_map(value: &mut Node, path: &NodePath, keep_null: bool) -> Result<()> {
    let span = value.span;
    match &mut value.value {
        Value::Null => {
            *value = Node::map(Mapping::new(), span);
            Ok(())
        }
        Value::Seq(items) => {
            let mut m = Mapping::new();
            for (i, item) in items.iter().enumerate() {
                let text = scalar_text(item, &path.index(i))?;
                let (key, val) = match text.split_once('=') {
                    Some((k, v)) => (k.to_string(), Node::string(v, item.span)),
                    None if keep_null => (text.to_string(), Node::null(item.span)),
                    None => (text.to_string(), Node::string("", item.span)),
                };
                m.insert(key, val);
            }
            *value = Node::map(m, span);
            Ok(())
        }
        Value::Map(m) => {
            for (key, v) in m.iter_mut() {
                match &v.value {
                    Value::Null if keep_null => {}
                    Value::Null => *v = Node::string("", v.span),
                    Value::Scalar(_) => scalar_to_string(v),
                    _ => {
                        return Err(Problem::new(
                            v.span,
                            path.key(key),
                            format!(
                                "expected a string, number or boolean, got a {}",
                                v.kind_name()
                            ),
                        ))
                    }
                }
            }
            Ok(())
        }
        Value::Scalar(_) => Err(expected(
            value,
            path,
            "a mapping or a list of KEY=VALUE strings",
        )),
    }
}

/// Typed scalars (numbers, booleans) become a string the way compose prints
/// them: the YAML value in canonical form (`007` -> "7", `0755` -> "493",
/// `1e3` -> "1000", `True` -> "true").
fn scalar_to_string(node: &mut Node) {
    if let Value::Scalar(s) = &mut node.value {
        if s.is_plain() {
            if let Resolved::Null = s.resolve() {
                return;
            }
            if let Some(canonical) = canonical_number_or_bool(&s.text) {
                s.text = canonical;
            }
            s.style = super::yaml::ScalarStyle::DoubleQuoted;
        }
    }
}

fn canonical_number_or_bool(text: &str) -> Option<String> {
    match text {
        "true" | "True" | "TRUE" => return Some("true".into()),
        "false" | "False" | "FALSE" => return Some("false".into()),
        _ => {}
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let sign = if negative { "-" } else { "" };
    let radix_value = if let Some(hex) = digits.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = digits.strip_prefix("0o") {
        u64::from_str_radix(oct, 8).ok()
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        u64::from_str_radix(&digits[1..], 8).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<u64>().ok()
    } else {
        None
    };
    if let Some(v) = radix_value {
        return Some(if v == 0 {
            "0".into()
        } else {
            format!("{sign}{v}")
        });
    }
    let is_float = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.parse::<f64>().is_ok();
    if !is_float {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    let abs = value.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        // Go's %v switches to an exponent here: 1e+21, 1e-05.
        let formatted = format!("{value:e}");
        let (mantissa, exponent) = formatted.split_once('e')?;
        let exp: i32 = exponent.parse().ok()?;
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return Some(format!("{mantissa}e{exp_sign}{:02}", exp.abs()));
    }
    Some(format!("{value}"))
}

fn scalars_to_strings(value: &mut Node, path: &NodePath) -> Result<()> {
    for (i, item) in seq_mut(value, path)?.iter_mut().enumerate() {
        if item.as_scalar().is_none() {
            return Err(expected(item, &path.index(i), "a string"));
        }
        scalar_to_string(item);
    }
    Ok(())
}

/// A scalar written where a mapping is expected (`build: ./app`,
/// `extends: base`, `secrets: [name]`) becomes `{key: scalar}`.
fn wrap_scalar(node: &mut Node, key: &str) {
    if let Some(text) = node.as_str().map(str::to_string) {
        let span = node.span;
        let mut m = Mapping::new();
        m.insert(key, Node::string(text, span));
        *node = Node::map(m, span);
    }
}

fn string_to_list(value: &mut Node) {
    if value.as_scalar().is_some() {
        let span = value.span;
        let item = std::mem::replace(value, Node::null(span));
        *value = Node::seq(vec![item], span);
    }
}

fn resolve_path_node(node: &mut Node, path: &NodePath, paths: &PathResolver) -> Result<()> {
    let text = scalar_text(node, path)?;
    let resolved = paths.resolve_value(text);
    *node = Node::string(resolved, node.span);
    Ok(())
}

fn scalar_text<'a>(node: &'a Node, path: &NodePath) -> Result<&'a str> {
    node.as_str()
        .ok_or_else(|| expected(node, path, "a string"))
}

fn seq_mut<'a>(node: &'a mut Node, path: &NodePath) -> Result<&'a mut Vec<Node>> {
    if node.as_seq().is_none() {
        return Err(expected(node, path, "a list"));
    }
    Ok(node.as_seq_mut().expect("checked above"))
}

fn expect_map_mut<'a>(node: &'a mut Node, path: &NodePath) -> Result<&'a mut Mapping> {
    if node.as_map().is_none() {
        return Err(expected(node, path, "a mapping"));
    }
    Ok(node.as_map_mut().expect("checked above"))
}

fn expected(node: &Node, path: &NodePath, what: &str) -> Problem {
    let got = match node.as_str() {
        Some(text) => format!("{} {:?}", node.kind_name(), text),
        None => format!("a {}", node.kind_name()),
    };
    Problem::new(
        node.span,
        path.clone(),
        format!("expected {what}, got {got}"),
    )
}

#[cfg(test)]
mod tests {
    use super::canonical_number_or_bool as c;

    #[test]
    fn plain_scalars_print_like_compose() {
        assert_eq!(c("0755").as_deref(), Some("493"));
        assert_eq!(c("007").as_deref(), Some("7"));
        assert_eq!(c("0o17").as_deref(), Some("15"));
        assert_eq!(c("0x1F").as_deref(), Some("31"));
        assert_eq!(c("1.50").as_deref(), Some("1.5"));
        assert_eq!(c("2.10").as_deref(), Some("2.1"));
        assert_eq!(c("1e3").as_deref(), Some("1000"));
        assert_eq!(c("-42").as_deref(), Some("-42"));
        assert_eq!(
            c("12345678901234567890").as_deref(),
            Some("12345678901234567890")
        );
        assert_eq!(c("True").as_deref(), Some("true"));
        assert_eq!(c("yes"), None);
        assert_eq!(c("1.2.3"), None);
        assert_eq!(c("v1"), None);
        assert_eq!(c("1e21").as_deref(), Some("1e+21"));
    }
}
