//! `fetched-phone-tables` (the JS bundle's build): before the tables are installed the country
//! list works and parsing refuses; a file that is not the tables is refused; the file build.rs
//! writes makes everything work. One test in its own process, as installing is for good.
use leptos_passwordless::phone::{self, PhoneNumber};

#[test]
fn fetched_tables_are_checked_then_used() {
    assert!(!phone::tables_ready());
    assert_eq!(phone::country("NL").map(|c| c.dial_code), Some(31));
    assert!(phone::countries().len() > 240);
    assert!(PhoneNumber::parse("06 12345678", "NL").is_err());
    assert_eq!(phone::as_you_type("0612", "NL").text, "0612");
    assert!(phone::install_tables("<html>not found</html>".into()).is_err());
    assert!(phone::install_tables("US;1;011".into()).is_err());
    assert!(!phone::tables_ready());
    let text = include_str!(concat!(env!("OUT_DIR"), "/phone-tables.txt"));
    phone::install_tables(text.to_string()).unwrap();
    assert!(phone::tables_ready());
    assert_eq!(
        PhoneNumber::parse("06 12345678", "NL").unwrap().e164(),
        "+31612345678"
    );
    assert_eq!(phone::as_you_type("0612345678", "NL").text, "06 12345678");
}
