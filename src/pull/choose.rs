//! Which file of a repository to fetch: `--hf-file` as named; else the GGUF whose name contains the quant
//! (`Q4_K_M`), else `Q4_K_M` when present, else the first; never a projector, never a later split part.
//! File names come from the hub, so each must be a relative path that stays inside the snapshot: no
//! leading `/`, no `..`, `.` or empty parts, no backslash or control characters.
//! Also what a file is: a model, a projector (`mmproj`), the parts of a split model, its quant.

use super::PullError;

const PREFERRED: &str = "q4_k_m";

pub fn file(files: &[String], quant: Option<&str>, named: Option<&str>) -> Result<String, PullError> {
    if let Some(name) = named {
        return match files.iter().find(|f| f.as_str() == name) {
            Some(found) if is_safe_name(found) => Ok(found.clone()),
            Some(_) => Err(PullError::BadFile(format!("refusing the file name {name:?}: it would leave the cache"))),
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
        match quant {
            Some(q) => {
                PullError::NoQuant(format!("no GGUF file matching '{q}'; the repository has: {}", names.join(", ")))
            }
            None => PullError::NoFile("the repository has no GGUF file".into()),
        }
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

/// A model file to list and pull: a GGUF that is not a projector nor a later part of a split model.
pub fn is_model(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let later_part = lower.contains("-of-") && !lower.contains("-00001-of-");
    lower.ends_with(".gguf") && !lower.contains("mmproj") && !later_part && !lower.split('/').any(|p| p == "..")
}

/// A vision projector, pulled beside a model as a sidecar.
pub fn is_mmproj(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".gguf") && lower.contains("mmproj")
}

/// Every part of the model whose first file is `first`, in order: `x-00001-of-00003.gguf` gives the three
/// names (zero-padded like the first); any other name is its only part.
pub fn parts(first: &str) -> Vec<String> {
    let split = first.len().checked_sub(".gguf".len()).and_then(|end| {
        let stem = first.get(..end)?;
        let (head, total) = stem.rsplit_once("-of-")?;
        let (base, part) = head.rsplit_once('-')?;
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (numeric(part) && numeric(total) && part.trim_start_matches('0') == "1").then_some((base, part.len(), total))
    });
    let Some((base, width, total)) = split else { return vec![first.to_string()] };
    let extension = &first[first.len() - ".gguf".len()..];
    let count: usize = total.parse().unwrap_or(1).min(1000);
    (1..=count).map(|i| format!("{base}-{i:0width$}-of-{total}{extension}")).collect()
}

/// The quant named in a file name (`Q4_K_M`, `IQ3_XXS`, `F16`, `BF16`), upper case.
pub fn quant_of(name: &str) -> Option<String> {
    let file = name.rsplit('/').next().unwrap_or(name);
    let stem = file.get(..file.len().checked_sub(".gguf".len())?)?;
    let stem = stem.rsplit_once("-of-").and_then(|(head, _)| head.rsplit_once('-')).map_or(stem, |(base, _)| base);
    stem.split(['-', '.']).rev().map(str::to_ascii_uppercase).find(|t| {
        let digit_after =
            |prefix: &str| t.strip_prefix(prefix).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
        digit_after("Q") || digit_after("IQ") || digit_after("TQ") || ["F16", "F32", "BF16"].contains(&t.as_str())
    })
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
    fn split_models_list_their_parts_and_names_carry_their_quant() {
        assert_eq!(
            parts("big/m-F16-00001-of-00002.gguf"),
            ["big/m-F16-00001-of-00002.gguf", "big/m-F16-00002-of-00002.gguf"]
        );
        assert_eq!(parts("m-Q8_0.gguf"), ["m-Q8_0.gguf"]);
        assert_eq!(parts("m-00002-of-00002.gguf"), ["m-00002-of-00002.gguf"], "not a first part");
        assert_eq!(quant_of("big/m-F16-00001-of-00002.gguf").as_deref(), Some("F16"));
        assert_eq!(quant_of("SmolLM2-135M-Instruct.Q4_1.gguf").as_deref(), Some("Q4_1"));
        assert_eq!(quant_of("Qwen3-8B-UD-IQ3_XXS.gguf").as_deref(), Some("IQ3_XXS"));
        assert_eq!(quant_of("model.gguf"), None);
        assert!(is_mmproj("mmproj-m-f16.gguf") && !is_mmproj("m-Q8_0.gguf"));
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
