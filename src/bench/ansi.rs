//! Terminal escapes (colours, cursor moves, titles) that hosts and loggers put around
//! SadTalker's lines, taken out before the markers are looked for.

/// The line without terminal escapes (colours, cursor moves) a host or a logger added.
pub fn clean(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters, then one final byte in @..~.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ESC \.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_titles_go() {
        assert_eq!(
            clean("\u{1b}[32m[SadTalker]\u{1b}[0m mel:: 100%|\u{1b}]0;title\u{7}##|"),
            "[SadTalker] mel:: 100%|##|"
        );
        assert_eq!(clean("plain"), "plain");
    }
}
