//! `fetched-phone-tables` (the JS bundle's build): the tables come a calling code's part at a
//! time. Before a part is installed the country list works, typed digits are kept as typed,
//! parsing refuses, and `missing_part` names the part to fetch; a file that is not a part is
//! refused; the parts build.rs writes make everything work. One test in its own process, as
//! installing is for good.
use leptos_passwordless::phone::{self, PhoneNumber};

fn part(code: u16) -> String {
    let path = format!("{}/phone-tables/{code}.txt", env!("OUT_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn fetched_parts_are_checked_then_used_as_they_come() {
    // Nothing installed: the country list works, nothing else does yet.
    assert_eq!(phone::country("NL").map(|c| c.dial_code), Some(31));
    assert!(phone::countries().len() > 240);
    assert_eq!(phone::missing_part("06 12345678", "NL"), Some(31));
    assert_eq!(phone::missing_part("", "NL"), Some(31));
    assert!(PhoneNumber::parse("06 12345678", "NL").is_err());
    assert_eq!(phone::as_you_type("0612", "NL").text, "0612");
    assert!(phone::country("NL").and_then(|c| c.example()).is_none());

    // Anything but one calling code's records, each with all its fields, is refused.
    assert!(phone::install_part("<html>not found</html>".into()).is_err());
    assert!(phone::install_part("NL;31;00".into()).is_err());
    assert!(phone::install_part(format!("{}\n{}", part(31), part(32))).is_err());
    assert!(phone::install_part(part(31).replace(";31;", ";999;")).is_err());
    assert!(!phone::has_part(31));

    // The Netherlands' part: national numbers parse and format; nothing else is installed.
    assert_eq!(phone::install_part(part(31)), Ok(31));
    assert!(phone::has_part(31) && !phone::has_part(44) && !phone::has_part(1));
    assert_eq!(phone::missing_part("06 12345678", "NL"), None);
    assert_eq!(
        PhoneNumber::parse("06 12345678", "NL").unwrap().e164(),
        "+31612345678"
    );
    assert_eq!(phone::as_you_type("0612345678", "NL").text, "06 12345678");
    assert!(phone::country("NL").and_then(|c| c.example()).is_some());

    // A British number typed in the Netherlands, with `+` or the international prefix, needs
    // the British part; until it comes, the digits stay as typed and no country is named.
    for typed in ["+44 7400 123456", "00 44 7400 123456"] {
        assert_eq!(phone::missing_part(typed, "NL"), Some(44), "{typed}");
        let early = phone::as_you_type(typed, "NL");
        assert_eq!(early.region, None, "{typed}");
        assert!(
            early.text.replace(' ', "").ends_with("447400123456"),
            "{typed}: {}",
            early.text
        );
        assert!(PhoneNumber::parse(typed, "NL").is_err());
    }
    assert_eq!(phone::install_part(part(44)), Ok(44));
    assert_eq!(phone::missing_part("+44 7400 123456", "NL"), None);
    let typed = phone::as_you_type("+447400123456", "NL");
    assert_eq!(
        (typed.text.as_str(), typed.region.as_deref()),
        ("+44 7400 123456", Some("GB"))
    );
    assert_eq!(
        PhoneNumber::parse("00 44 7400 123456", "NL")
            .unwrap()
            .e164(),
        "+447400123456"
    );

    // A region of a shared calling code (Canada, +1) comes with its code's part, the largest.
    assert_eq!(phone::missing_part("", "CA"), Some(1));
    assert_eq!(phone::install_part(part(1)), Ok(1));
    assert_eq!(phone::missing_part("(204) 555-0123", "CA"), None);
    assert_eq!(
        PhoneNumber::parse("(204) 555-0123", "CA").unwrap().region(),
        Some("CA")
    );
    // A second install of a part keeps the first.
    assert_eq!(phone::install_part(part(31)), Ok(31));
}

/// What a server serves with `table_part` (its build has the whole table, natively always) is
/// exactly what build.rs writes for the bundle, for every calling code; other numbers have none.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn a_server_serves_the_parts_build_rs_writes() {
    let dir = format!("{}/phone-tables", env!("OUT_DIR"));
    let mut served = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let code: u16 = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(phone::table_part(code), Some(written.as_str()), "{code}");
        served += 1;
    }
    assert!(served > 200, "{served} parts in {dir}");
    for none in [0, 2, 999, 1000, u16::MAX] {
        assert_eq!(phone::table_part(none), None, "{none}");
    }
    // By file name, one spelling per part.
    assert_eq!(phone::table_file("31.txt"), phone::table_part(31));
    assert!(phone::table_file("1.txt").is_some());
    for wrong in [
        "031.txt", "+31.txt", "31", "31.TXT", " 31.txt", "999.txt", "x.txt", ".txt", "",
    ] {
        assert_eq!(phone::table_file(wrong), None, "{wrong:?}");
    }
}
