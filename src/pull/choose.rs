//! Which file of a repository to fetch: `--hf-file` as named; else the GGUF whose name contains the quant
//! (`Q4_K_M`), else `Q4_K_M` when present, else the first; never a projector, never a later split part.
//! File names come from the hub, so each must be a relative path that stays inside the snapshot: no
//! leading `/`, no `..`, `.` or empty parts, no backslash or control characters.

use super::PullError;

const PREFERRED: &str = "q4_k_m";

pub fn file(files: &[String], quant: Option<&str>, named: Option<&str>) -> Result<String, PullError> {
    if let Some(name) = named {
        return match files.iter().find(|f| f.as_str() == name) {
            Some(found) if is_safe_name(found) => Ok(found.clone()),
            Some(_) => Err(PullError::NoFile(format!("refusing the file name {name:?}: it would leave the cache"))),
            None => Err(PullError::NoFile(format!("the repository has no file {name}"))),
        };
    }
    let mut models: Vec<&String> = files.iter().filter(|f| is_safe_name(f) && is_model(f)).collect();
    models.sort_by_key(|f| (f.len(), f.to_string()));
    let lower = |f: &String| f.to_ascii_lowercase();
    let pick = match quant {
        Some(q) => models.iter().find(|f| lower(f).contains(&q.to_ascii_lowercase())),
        None => models.iter().find(|f| lower(f).contains(PREFERRED)).or(models.first()),
    };
    pick.map(|f| f.to_string()).ok_or_else(|| {
        let names: Vec<&str> = models.iter().map(|f| f.as_str()).collect();
        PullError::NoFile(match quant {
            Some(q) => format!("no GGUF file matching '{q}'; the repository has: {}", names.join(", ")),
            None => "the repository has no GGUF file".into(),
        })
    })
}

/// A relative path inside the snapshot directory.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 1024
        && !name.contains('\\')
        && !name.chars().any(char::is_control)
        && name.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
}

fn is_model(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let later_part = lower.contains("-of-") && !lower.contains("-00001-of-");
    lower.ends_with(".gguf") && !lower.contains("mmproj") && !later_part && !lower.split('/').any(|p| p == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<String> {
        [
            "README.md",
            "m-Q8_0.gguf",
            "m-Q4_K_M.gguf",
            "mmproj-m-f16.gguf",
            "big/m-F16-00001-of-00002.gguf",
            "big/m-F16-00002-of-00002.gguf",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn the_quant_or_q4_k_m_or_the_named_file_is_chosen() {
        assert_eq!(file(&files(), Some("q8_0"), None).unwrap(), "m-Q8_0.gguf");
        assert_eq!(file(&files(), None, None).unwrap(), "m-Q4_K_M.gguf");
        assert_eq!(file(&files(), Some("F16"), None).unwrap(), "big/m-F16-00001-of-00002.gguf");
        assert_eq!(file(&files(), None, Some("m-Q8_0.gguf")).unwrap(), "m-Q8_0.gguf");
        assert!(file(&files(), Some("Q2_K"), None).is_err());
        assert!(file(&files(), None, Some("../etc/passwd")).is_err());
    }

    #[test]
    fn hub_names_that_are_absolute_or_climb_are_never_chosen() {
        let hostile: Vec<String> = [
            "/etc/cron.d/x-Q4_K_M.gguf",
            "a/../../x-Q4_K_M.gguf",
            "./x.gguf",
            "a//b.gguf",
            "a\\..\\b.gguf",
            "x\n.gguf",
        ]
        .map(String::from)
        .to_vec();
        for name in &hostile {
            assert!(file(&hostile, None, Some(name)).is_err(), "{name}");
        }
        assert!(file(&hostile, None, None).is_err(), "no safe file to pick");
        let mut mixed = hostile.clone();
        mixed.push("ok-Q8_0.gguf".into());
        assert_eq!(file(&mixed, None, None).unwrap(), "ok-Q8_0.gguf");
    }
}
