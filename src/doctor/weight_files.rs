//! Whether one weight file is whole, judged from its own structure: zero bytes, the safetensors
//! header against the file size, the zip end-of-central-directory record of `.pth` files.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// What a weight file looks like from the outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Sound,
    Missing,
    Empty,
    /// Shorter than its own structure says, or its structure is broken.
    Damaged(String),
}

/// Judge one file by its extension.
pub fn file_state(path: &Path) -> FileState {
    let Ok(meta) = std::fs::metadata(path) else {
        return FileState::Missing;
    };
    if meta.len() == 0 {
        return FileState::Empty;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let verdict = if name.ends_with(".safetensors") {
        safetensors_problem(path, meta.len())
    } else if name.ends_with(".pth") || name.ends_with(".pth.tar") {
        zip_problem(path, meta.len())
    } else {
        Ok(())
    };
    match verdict {
        Ok(()) => FileState::Sound,
        Err(why) => FileState::Damaged(why),
    }
}

/// A safetensors file: 8-byte little-endian header length, a JSON header whose tensors'
/// `data_offsets` end exactly at the end of the file.
fn safetensors_problem(path: &Path, len: u64) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let mut size = [0u8; 8];
    file.read_exact(&mut size)
        .map_err(|_| "shorter than the 8-byte header length".to_string())?;
    let header_len = u64::from_le_bytes(size);
    if header_len > 100 << 20 || 8 + header_len > len {
        return Err(format!(
            "header length {header_len} does not fit in {len} bytes"
        ));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header).map_err(|e| e.to_string())?;
    let json: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| format!("header is not JSON ({e})"))?;
    let data_end = json
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .filter_map(|(_, v)| v.get("data_offsets")?.get(1)?.as_u64())
        .max()
        .unwrap_or(0);
    let expected = 8 + header_len + data_end;
    match len.cmp(&expected) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => Err(format!("truncated: {len} of {expected} bytes")),
        std::cmp::Ordering::Greater => Err(format!("{len} bytes, header says {expected}")),
    }
}

/// A `.pth`/`.pth.tar` (torch.save's zip format): the end-of-central-directory record must be
/// there and point inside the file. Legacy pickle files cannot be checked this way.
fn zip_problem(path: &Path, len: u64) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic)
        .map_err(|_| "shorter than 4 bytes".to_string())?;
    if &magic != b"PK\x03\x04" {
        return Ok(()); // legacy torch pickle: no structure to check from the outside
    }
    let window = len.min(22 + 65535);
    file.seek(SeekFrom::Start(len - window))
        .map_err(|e| e.to_string())?;
    let mut tail = vec![0u8; window as usize];
    file.read_exact(&mut tail).map_err(|e| e.to_string())?;
    let Some(at) = tail.windows(4).rposition(|w| w == b"PK\x05\x06") else {
        return Err("truncated: no zip end-of-central-directory record".into());
    };
    let eocd = &tail[at..];
    if eocd.len() < 22 {
        return Err("truncated inside the end-of-central-directory record".into());
    }
    let u32_at = |i: usize| u32::from_le_bytes([eocd[i], eocd[i + 1], eocd[i + 2], eocd[i + 3]]);
    let (cd_size, cd_offset) = (u32_at(12), u32_at(16));
    if cd_offset == u32::MAX || cd_size == u32::MAX {
        return Ok(()); // zip64: the record is there; the 64-bit one holds the offsets
    }
    let eocd_pos = len - window + at as u64;
    if u64::from(cd_offset) + u64::from(cd_size) > eocd_pos {
        return Err("the central directory points past the end of the file".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safetensors_bytes() -> Vec<u8> {
        let header = br#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header);
        out.extend_from_slice(&[0u8; 8]);
        out
    }

    #[test]
    fn safetensors_truncation_is_found_from_the_header() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("m.safetensors");
        let bytes = safetensors_bytes();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(file_state(&path), FileState::Sound);
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(matches!(file_state(&path), FileState::Damaged(w) if w.contains("truncated")));
        std::fs::write(&path, b"").unwrap();
        assert_eq!(file_state(&path), FileState::Empty);
        assert_eq!(file_state(&tmp.path().join("none")), FileState::Missing);
    }

    #[test]
    fn a_zip_without_its_end_record_is_truncated() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("m.pth.tar");
        // One stored entry "a" holding "x", then its central directory and the end record.
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        zip.extend_from_slice(&[0u8; 12]);
        zip.extend_from_slice(&[1, 0, 0, 0]);
        zip.extend_from_slice(b"ax");
        let cd_start = zip.len() as u32;
        let mut cd = b"PK\x01\x02".to_vec();
        cd.extend_from_slice(&[0u8; 24]);
        cd.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        cd.push(b'a');
        let cd_len = cd.len() as u32;
        zip.extend_from_slice(&cd);
        zip.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
        zip.extend_from_slice(&cd_len.to_le_bytes());
        zip.extend_from_slice(&cd_start.to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        std::fs::write(&path, &zip).unwrap();
        assert_eq!(file_state(&path), FileState::Sound);
        std::fs::write(&path, &zip[..zip.len() - 30]).unwrap();
        assert!(matches!(file_state(&path), FileState::Damaged(_)));
    }
}
