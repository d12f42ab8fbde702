//! The variables a project is interpolated with: the process environment,
//! then `.env` / `--env-file` values for names the process does not set.

use super::dotenv;
use indexmap::IndexMap;
use std::path::Path;

/// Interpolation variables, process environment first.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: IndexMap<String, String>,
    /// Names the process itself set: no file may change them.
    from_process: std::collections::HashSet<String>,
}

impl Environment {
    /// Starts from the given process environment.
    pub fn from_process(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let vars: IndexMap<String, String> = vars.into_iter().collect();
        let from_process = vars.keys().cloned().collect();
        Environment { vars, from_process }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    /// Every variable, as a sorted map.
    pub fn to_map(&self) -> std::collections::BTreeMap<String, String> {
        self.vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// Sets a variable unless the environment already has it.
    pub fn set_default(&mut self, name: &str, value: &str) {
        if !self.vars.contains_key(name) {
            self.vars.insert(name.to_string(), value.to_string());
        }
    }

    /// Reads an env file: its values override earlier files but never the
    /// process environment. Values may reference variables set before and
    /// earlier lines.
    pub fn add_env_file(&mut self, path: &Path) -> Result<(), String> {
        for (key, value) in self.read_env_file(path)? {
            if !self.from_process.contains(&key) {
                self.vars.insert(key, value);
            }
        }
        Ok(())
    }

    /// Reads an env file whose values only fill in names not set yet (an
    /// included project's env file: the including project's values win).
    pub fn add_env_file_defaults(&mut self, path: &Path) -> Result<(), String> {
        for (key, value) in self.read_env_file(path)? {
            self.set_default(&key, &value);
        }
        Ok(())
    }

    fn read_env_file(&self, path: &Path) -> Result<Vec<(String, String)>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let parsed = dotenv::parse(&text, &|name| self.get(name))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(parsed
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect())
    }

    /// A lookup closure for interpolation.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |name| self.get(name)
    }
}
