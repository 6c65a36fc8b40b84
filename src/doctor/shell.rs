//! Shell quoting for the fix commands doctor prints: a path with a space (common under WSL,
//! `/mnt/c/Users/Jane Doe/...`) must still make a command that runs when pasted.

/// `text` as one shell word: unchanged when it has nothing the shell would split or expand,
/// else in single quotes.
pub fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A `sadfix` fix command with `--root ROOT` added after its subcommand, so that it runs from
/// wherever doctor was run; other commands are returned unchanged.
pub fn with_root(fix: &str, root: &str) -> String {
    for sub in [
        "sadfix patch",
        "sadfix doctor",
        "sadfix bench",
        "sadfix scan",
    ] {
        if let Some(rest) = fix.strip_prefix(sub) {
            if rest.is_empty() || rest.starts_with(' ') {
                return format!("{sub} --root {}{rest}", quote(root));
            }
        }
    }
    fix.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("/usr/bin/python3"), "/usr/bin/python3");
        assert_eq!(
            quote("/mnt/c/Users/Jane Doe/venv/bin/python"),
            "'/mnt/c/Users/Jane Doe/venv/bin/python'"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn adds_the_root_to_sadfix_commands_only() {
        assert_eq!(
            with_root("sadfix patch --force-gpu", "/a b/SadTalker"),
            "sadfix patch --root '/a b/SadTalker' --force-gpu"
        );
        assert_eq!(
            with_root("python3 -m pip install numpy==1.23.4", "/x"),
            "python3 -m pip install numpy==1.23.4"
        );
        assert_eq!(with_root("sadfix patchwork", "/x"), "sadfix patchwork");
    }
}
