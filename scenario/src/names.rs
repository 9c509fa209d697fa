//! Names and their rules: Kubernetes' DNS names and label keys and values, and the "did you
//! mean" of a misspelt one. A leaf: every reader of the scenario's files (the YAML layer,
//! manifests, scheduling terms, the loader, the scheduler configuration) checks names here.

/// Kubernetes' DNS-1123 subdomain rule for object names: apimachinery's
/// `IsDNS1123Subdomain` (k8s.io/apimachinery v0.35, pkg/util/validation/validation.go): at
/// most 253 characters matching `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`
/// — dot-separated parts, each starting and ending with a letter or digit (so never `..`).
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns_label_text)
}

/// One part of a DNS-1123 name: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, of any length.
fn is_dns_label_text(part: &str) -> bool {
    let ok_end = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && ok_end(part.chars().next())
        && ok_end(part.chars().last())
}

/// The closest of `candidates` to `word` (case-insensitive edit distance at most a third of
/// its length, and at least 1): the "did you mean" of an unknown name.
pub fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The help of an unknown name: "did you mean …", or the list of names.
pub fn unknown_help(word: &str, candidates: &[&str]) -> String {
    match suggest(word, candidates) {
        Some(s) => format!("did you mean `{s}`? (one of: {})", candidates.join(", ")),
        None => format!("one of: {}", candidates.join(", ")),
    }
}

/// Why `key` is not a label key (`metav1validation.ValidateLabelName`: a qualified name, an
/// optional DNS-subdomain prefix and `/`, then at most 63 alphanumerics, `-`, `_`, `.`,
/// beginning and ending alphanumeric).
pub fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !is_dns_subdomain(prefix)
    {
        return Some(format!(
            "`{key}` has an invalid prefix `{prefix}` (a DNS subdomain: lower-case letters, digits, `-` and `.`)"
        ));
    }
    if name.is_empty() || name.len() > 63 || !is_label_token(name) {
        return Some(format!(
            "`{key}` is not a valid label key: at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit, after an optional `prefix/`"
        ));
    }
    None
}

/// Whether `value` is a valid label value (empty, or a label token of at most 63 characters).
pub fn is_label_value(value: &str) -> bool {
    value.is_empty() || (value.len() <= 63 && is_label_token(value))
}

fn is_label_token(text: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    text.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
        && text.chars().next().is_some_and(alnum)
        && text.chars().last().is_some_and(alnum)
}

/// Kubernetes' DNS-1123 label (a namespace's name).
pub fn is_dns_label(name: &str) -> bool {
    name.len() <= 63 && is_dns_subdomain(name) && !name.contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATORS: [&str; 4] = ["In", "NotIn", "Exists", "DoesNotExist"];

    #[test]
    fn suggestions_find_near_misses_only() {
        assert_eq!(suggest("in", &OPERATORS), Some("In"));
        assert_eq!(suggest("DoesntExist", &OPERATORS), Some("DoesNotExist"));
        assert_eq!(suggest("Whatever", &OPERATORS), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn label_keys_and_values_follow_the_api_rules() {
        assert_eq!(label_key_problem("app"), None);
        assert_eq!(label_key_problem("topology.kubernetes.io/zone"), None);
        assert!(label_key_problem("").is_some());
        assert!(label_key_problem("-app").is_some());
        assert!(label_key_problem("Bad_Prefix/app").is_some());
        assert!(label_key_problem(&"a".repeat(64)).is_some());
        assert!(is_label_value(""));
        assert!(is_label_value("v1.2_x"));
        assert!(!is_label_value("has space"));
        assert!(is_dns_label("team-a"));
        assert!(is_dns_subdomain("omega-paper.v2"));
        for bad in ["", "..", "a..b", "a.-b", "-a", "a.", "/etc", "../x", "A", &"a".repeat(254)] {
            assert!(!is_dns_subdomain(bad), "{bad:?} accepted");
        }
        assert!(is_dns_subdomain(&"a".repeat(253)));
        assert!(!is_dns_label("team.a"));
    }
}
