//! How wide a table may be: `COLUMNS` when set, else the terminal's width when stdout is one,
//! else 120 (a file or a pipe still gets a table a 120-column terminal shows unbroken); and
//! paths outside the install shortened to where they live (`site-packages/basicsr/...`).

use std::io::IsTerminal;
use std::path::Path;

/// Below this a table is unreadable however it is wrapped.
const NARROWEST: u16 = 40;
const FALLBACK: u16 = 120;

/// The width tables are laid out to.
pub fn columns() -> u16 {
    columns_from(
        std::env::var("COLUMNS").ok().as_deref(),
        std::io::stdout().is_terminal().then(tty_columns).flatten(),
    )
}

fn columns_from(env: Option<&str>, tty: Option<u16>) -> u16 {
    env.and_then(|v| v.trim().parse::<u16>().ok())
        .or(tty)
        .filter(|w| *w > 0)
        .map_or(FALLBACK, |w| w.max(NARROWEST))
}

fn tty_columns() -> Option<u16> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct we own.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(size.ws_col)
}

/// A site's file for a table: relative paths (inside the install) as they are; an absolute one
/// from its `site-packages` (or `dist-packages`) directory on, else as it is.
pub fn short_path(path: &Path) -> String {
    if path.is_relative() {
        return path.display().to_string();
    }
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts
        .iter()
        .rposition(|p| p == "site-packages" || p == "dist-packages")
    {
        Some(i) => parts[i..].join("/"),
        None => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_come_from_the_environment_then_the_terminal_then_120() {
        assert_eq!(columns_from(Some("100"), Some(200)), 100);
        assert_eq!(columns_from(None, Some(200)), 200);
        assert_eq!(columns_from(None, None), 120);
        assert_eq!(columns_from(Some("junk"), None), 120);
        assert_eq!(columns_from(Some("10"), None), 40);
    }

    #[test]
    fn site_packages_paths_are_shortened_install_paths_kept() {
        assert_eq!(
            short_path(Path::new(
                "/home/jane/SadTalker/venv/lib/python3.11/site-packages/basicsr/data/degradations.py"
            )),
            "site-packages/basicsr/data/degradations.py"
        );
        assert_eq!(
            short_path(Path::new("src/utils/preprocess.py")),
            "src/utils/preprocess.py"
        );
    }
}
