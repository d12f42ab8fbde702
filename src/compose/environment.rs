//! The variables a project is interpolated with: the process environment,
//! then `.env` / `--env-file` values for names the process does not set.

use super::dotenv;
use indexmap::IndexMap;
use std::path::Path;

/// Interpolation variables, process environment first.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: IndexMap<String, String>,
}

impl Environment {
    /// Starts from the given process environment.
    pub fn from_process(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Environment { vars: vars.into_iter().collect() }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
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

    /// Reads an env file; its values fill in names not already set.
    /// Values may reference variables set before and earlier lines.
    pub fn add_env_file(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let parsed = dotenv::parse(&text, &|name| self.get(name))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        for (key, value) in parsed {
            if let Some(value) = value {
                self.set_default(&key, &value);
            }
        }
        Ok(())
    }

    /// A lookup closure for interpolation.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |name| self.get(name)
    }
}
