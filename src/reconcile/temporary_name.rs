//! The name a recreate gives the new container while the old one still
//! holds the service's name (`<old id, 12 hex digits>_<name>`, as docker
//! compose names it), and how such a name is recognised afterwards: an `up`
//! cut short leaves one behind, which the next `up` repairs.

/// How many hex digits of the old container's ID the name starts with.
const ID_DIGITS: usize = 12;

/// The temporary name of the container replacing `old_id` named `name`.
pub fn temporary_name(old_id: &str, name: &str) -> String {
    let short_id = &old_id[..old_id.len().min(ID_DIGITS)];
    format!("{short_id}_{name}")
}

/// The name a temporary name stands in for; `None` for any other name.
pub fn original_name(name: &str) -> Option<&str> {
    let (prefix, original) = name.split_at_checked(ID_DIGITS)?;
    let original = original.strip_prefix('_')?;
    let hex = prefix
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex && !original.is_empty()).then_some(original)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_round_trip() {
        let name = temporary_name("0123456789abcdef0123", "demo-web-1");
        assert_eq!(name, "0123456789ab_demo-web-1");
        assert_eq!(original_name(&name), Some("demo-web-1"));
        assert_eq!(original_name("demo-web-1"), None);
        assert_eq!(original_name("0123456789ab_"), None);
        assert_eq!(original_name("0123456789AB_demo-web-1"), None);
        assert_eq!(original_name("0123456789xy_demo-web-1"), None);
        assert_eq!(original_name("ü23456789abc_x"), None);
    }
}
