//! Output bytes to lines: split at `\n` and `\r` (tqdm redraws with `\r`), as they arrive.

/// Splits a byte stream into lines at `\n` and `\r`. A tqdm redraw ends with no newline (the
/// next one starts with `\r`), so a complete-looking bar at the end of a read is let out at once
/// rather than one redraw late.
///
/// A line longer than `MAX_LINE` (hosts print whole base64 payloads on one line) is cut: its
/// first `MAX_LINE` bytes are kept with a note of how much was dropped, never buffered whole.
#[derive(Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
    /// The pending text was already let out as a complete bar.
    released: bool,
    /// Bytes of the pending line dropped past `MAX_LINE`.
    cut: usize,
}

/// The longest line kept whole, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

impl LineSplitter {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\n' || b == b'\r' {
                self.flush_into(&mut out);
            } else {
                if self.released {
                    self.pending.clear();
                    self.released = false;
                }
                if self.pending.len() < MAX_LINE {
                    self.pending.push(b);
                } else {
                    self.cut += 1;
                }
            }
        }
        let text = String::from_utf8_lossy(&self.pending);
        let trimmed = text.trim_end();
        if !self.released && self.cut == 0 && trimmed.contains("%|") && trimmed.ends_with(']') {
            out.push(trimmed.to_string());
            self.released = true;
        }
        out
    }

    /// What is left at the end of the stream.
    pub fn rest(&mut self) -> Option<String> {
        let mut out = Vec::new();
        self.flush_into(&mut out);
        out.pop()
    }

    fn flush_into(&mut self, out: &mut Vec<String>) {
        if !self.released {
            let text = String::from_utf8_lossy(&self.pending);
            let text = text.trim_end();
            if self.cut > 0 {
                out.push(format!("{text} [... {} bytes cut]", self.cut));
            } else if !text.trim().is_empty() {
                out.push(text.to_string());
            }
        }
        self.pending.clear();
        self.released = false;
        self.cut = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_carriage_returns_and_lets_a_finished_bar_out_at_once() {
        let mut s = LineSplitter::default();
        assert_eq!(
            s.push(b"using safetensor as default\nmel::  0%|  | 0/5 [00:00<?, ?it/s]"),
            vec![
                "using safetensor as default",
                "mel::  0%|  | 0/5 [00:00<?, ?it/s]"
            ]
        );
        // The next redraw starts with \r: the bar above is not repeated.
        assert_eq!(
            s.push(b"\rmel:: 100%|##| 5/5 [00:00<00:00, 9.1it/s]\n"),
            vec!["mel:: 100%|##| 5/5 [00:00<00:00, 9.1it/s]"]
        );
        assert_eq!(s.push(b"half a li"), Vec::<String>::new());
        assert_eq!(s.push(b"ne\r\n"), vec!["half a line"]);
        assert_eq!(s.push(b"no newline at the end"), Vec::<String>::new());
        assert_eq!(s.rest().as_deref(), Some("no newline at the end"));
    }

    #[test]
    fn a_line_of_several_megabytes_is_cut_not_buffered() {
        let mut s = LineSplitter::default();
        let payload = vec![b'A'; 3 * 1024 * 1024];
        for chunk in payload.chunks(8192) {
            assert!(s.push(chunk).is_empty());
            assert!(s.pending.len() <= MAX_LINE);
        }
        let out = s.push(b"\nnext\n");
        assert_eq!(out.len(), 2);
        assert!(out[0].starts_with("AAAA"));
        assert!(out[0].ends_with(&format!("[... {} bytes cut]", 3 * 1024 * 1024 - MAX_LINE)));
        assert_eq!(out[1], "next");
    }
}
