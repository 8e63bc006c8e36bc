//! Which file of a repository to fetch: `--hf-file` as named; else the GGUF whose name contains the quant
//! (`Q4_K_M`), else `Q4_K_M` when present, else the first; never a projector, never a later split part.

use super::PullError;

const PREFERRED: &str = "q4_k_m";

pub fn file(files: &[String], quant: Option<&str>, named: Option<&str>) -> Result<String, PullError> {
    if let Some(name) = named {
        let safe = !name.split('/').any(|part| part.is_empty() || part == "." || part == "..");
        return match files.iter().find(|f| f.as_str() == name) {
            Some(found) if safe => Ok(found.clone()),
            _ => Err(PullError::NoFile(format!("the repository has no file {name}"))),
        };
    }
    let mut models: Vec<&String> = files.iter().filter(|f| is_model(f)).collect();
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
}
