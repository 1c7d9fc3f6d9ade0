//! Deciding configuration commands on a tenant's configuration.

use super::*;
use crate::domain::ErrorKind;
use crate::rating::AppliesTo;
use chrono::{NaiveDate, TimeZone, Utc};

fn upload(name: &str, version: &str, sha: &str) -> ConfigCommand {
    ConfigCommand::UploadPlugin(PluginUpload {
        name: name.into(),
        version: version.into(),
        component_sha256: sha.into(),
        size_bytes: 1000,
        world: "rater".into(),
        wit_version: "0.1.0".into(),
        instance_policy: "fresh".into(),
    })
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn run(
    state: &mut ConfigState,
    command: &ConfigCommand,
    today: &str,
) -> Result<Vec<ConfigEvent>, ConfigError> {
    let at = Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap();
    let events = state.decide(command, "admin:ops", at, day(today))?;
    events.iter().for_each(|e| state.apply(e));
    Ok(events)
}

#[test]
fn the_first_upload_of_a_name_is_activated_and_a_second_is_not() {
    let mut state = ConfigState::default();
    let events = run(&mut state, &upload("rater", "1", "aa"), "2026-01-10").unwrap();
    assert_eq!(
        events.iter().map(ConfigEvent::kind).collect::<Vec<_>>(),
        ["plugin_uploaded", "plugin_version_activated"]
    );
    let events = run(&mut state, &upload("rater", "2", "bb"), "2026-01-10").unwrap();
    assert_eq!(events.len(), 1);
    let history = &state.plugins["rater"];
    assert_eq!(history.active_on(day("2026-01-10")), Some("1"));
    assert_eq!(history.versions["2"].component_sha256, "bb");
    assert_eq!(history.versions["2"].uploaded.by, "admin:ops");
}

#[test]
fn a_version_uploaded_again_is_refused_whatever_its_bytes() {
    let mut state = ConfigState::default();
    run(&mut state, &upload("rater", "1", "aa"), "2026-01-10").unwrap();
    let error = run(&mut state, &upload("rater", "1", "cc"), "2026-01-10").unwrap_err();
    assert_eq!(error.code(), "plugin_version_exists");
    assert_eq!(error.kind(), ErrorKind::Conflict);
}

#[test]
fn a_scheduled_version_is_in_effect_from_its_day_and_a_past_day_is_refused() {
    let mut state = ConfigState::default();
    run(&mut state, &upload("rater", "1", "aa"), "2026-01-10").unwrap();
    run(&mut state, &upload("rater", "2", "bb"), "2026-01-10").unwrap();
    let schedule = |from: &str| ConfigCommand::ScheduleVersion {
        name: "rater".into(),
        version: "2".into(),
        from: day(from),
        applies_to: AppliesTo::All,
    };
    let error = run(&mut state, &schedule("2026-01-10"), "2026-01-10").unwrap_err();
    assert_eq!(error.code(), "schedule_not_in_future");
    run(&mut state, &schedule("2026-06-01"), "2026-01-10").unwrap();
    let history = &state.plugins["rater"];
    assert_eq!(history.active_on(day("2026-05-31")), Some("1"));
    assert_eq!(history.active_on(day("2026-06-01")), Some("2"));
}

#[test]
fn unknown_versions_cannot_be_activated_scheduled_or_given_tables() {
    let mut state = ConfigState::default();
    let activate = ConfigCommand::ActivateVersion {
        name: "rater".into(),
        version: "9".into(),
    };
    let error = run(&mut state, &activate, "2026-01-10").unwrap_err();
    assert_eq!(
        (error.code(), error.kind()),
        ("plugin_version_unknown", ErrorKind::NotFound)
    );
    let attach = ConfigCommand::AttachRateTable {
        name: "rater".into(),
        version: "9".into(),
        table: "base".into(),
        sha256: "dd".into(),
    };
    assert_eq!(
        run(&mut state, &attach, "2026-01-10").unwrap_err().code(),
        "plugin_version_unknown"
    );
    assert_eq!(state.generation, 0);
}

#[test]
fn each_registration_of_a_rater_is_a_new_revision() {
    let mut state = ConfigState::default();
    let register = |url: &str| {
        ConfigCommand::RegisterExternalRater(RaterRegistration {
            name: "legacy".into(),
            url: url.into(),
            header_names: vec!["Authorization".into()],
            timeout_ms: 5000,
            secret_ref: "ref".into(),
        })
    };
    run(&mut state, &register("http://a.test/"), "2026-01-10").unwrap();
    run(&mut state, &register("http://b.test/"), "2026-01-10").unwrap();
    let revisions = &state.raters["legacy"];
    assert_eq!(
        revisions
            .iter()
            .map(|r| (r.revision, r.url.as_str()))
            .collect::<Vec<_>>(),
        [(1, "http://a.test/"), (2, "http://b.test/")]
    );
}

#[test]
fn a_host_puts_the_latest_rater_revision_in_use_with_its_decrypted_headers_and_skips_an_undecryptable_one()
 {
    use crate::store::{MemoryStore, Store};
    use std::sync::Arc;
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let runtime = Arc::new(crate::plugin::PluginRuntime::new(Default::default()).unwrap());
    let secrets = secrets::SecretBox::new([3; 32]);
    let directory = Arc::new(RaterDirectory::with_secrets(runtime, secrets.clone()));
    let host = HostConfig::new(Arc::clone(&store), Arc::clone(&directory));
    let mut state = ConfigState::default();
    let register = |state: &mut ConfigState, url: &str, secret_ref: String| {
        let command = ConfigCommand::RegisterExternalRater(RaterRegistration {
            name: "legacy".into(),
            url: url.into(),
            header_names: vec!["Authorization".into()],
            timeout_ms: 500,
            secret_ref,
        });
        run(state, &command, "2026-01-10").unwrap();
    };
    let secret = secrets::RaterSecret {
        url: "http://127.0.0.1:9/rate".into(),
        headers: vec![("Authorization".into(), "Basic c2VjcmV0".into())],
    };
    let reference = secrets.put(store.as_ref(), "t", &secret).unwrap();
    register(&mut state, "http://127.0.0.1:9/rate", reference);
    host.apply("t", &state, None);
    let in_use = |name: &str| directory.external.read().unwrap().contains_key(name);
    assert!(in_use("t/legacy"));
    // A revision whose secret another key sealed does not load; the one
    // in use stays.
    let other = secrets::SecretBox::new([4; 32]);
    let foreign = other.put(store.as_ref(), "t", &secret).unwrap();
    register(&mut state, "http://127.0.0.1:9/other", foreign);
    host.apply("t", &state, None);
    assert!(in_use("t/legacy"));
    assert_eq!(state.raters["legacy"].len(), 2);
    assert!(!in_use("u/legacy"), "another tenant has no such rater");
}

#[test]
fn a_version_scheduled_for_new_business_and_renewals_on_different_days_rates_each_from_its_day() {
    use crate::rating::RatedFor;
    let mut state = ConfigState::default();
    run(&mut state, &upload("rater", "1", "aa"), "2026-01-10").unwrap();
    run(&mut state, &upload("rater", "2", "bb"), "2026-01-10").unwrap();
    let events = run(
        &mut state,
        &ConfigCommand::ScheduleVersions {
            name: "rater".into(),
            version: "2".into(),
            new_business_from: Some(day("2026-06-01")),
            renewals_from: Some(day("2026-07-01")),
        },
        "2026-01-10",
    )
    .unwrap();
    assert_eq!(events.len(), 2);
    let history = &state.plugins["rater"];
    assert_eq!(
        history.version_for(day("2026-06-15"), RatedFor::NewBusiness),
        Some("2")
    );
    assert_eq!(
        history.version_for(day("2026-06-15"), RatedFor::Renewal),
        Some("1")
    );
    assert_eq!(
        history.version_for(day("2026-07-01"), RatedFor::Renewal),
        Some("2")
    );
    // Version 1 from the renewals' day: two versions the same day.
    let error = run(
        &mut state,
        &ConfigCommand::ScheduleVersion {
            name: "rater".into(),
            version: "1".into(),
            from: day("2026-07-01"),
            applies_to: AppliesTo::All,
        },
        "2026-01-10",
    )
    .unwrap_err();
    assert_eq!(error.code(), "schedule_overlaps");
    assert_eq!(error.kind(), ErrorKind::Conflict);
    let error = run(
        &mut state,
        &ConfigCommand::ScheduleVersions {
            name: "rater".into(),
            version: "1".into(),
            new_business_from: None,
            renewals_from: None,
        },
        "2026-01-10",
    )
    .unwrap_err();
    assert_eq!(error.code(), "invalid_schedule");
}

#[test]
fn a_versions_edition_hash_covers_its_component_and_its_tables() {
    let mut state = ConfigState::default();
    run(&mut state, &upload("rater", "1", "aa"), "2026-01-10").unwrap();
    let bare = state.plugins["rater"].versions["1"].edition_sha256.clone();
    assert_eq!(bare, edition_sha256("aa", &Default::default()));
    run(
        &mut state,
        &ConfigCommand::AttachRateTable {
            name: "rater".into(),
            version: "1".into(),
            table: "rates".into(),
            sha256: "bb".into(),
        },
        "2026-01-10",
    )
    .unwrap();
    let with_table = &state.plugins["rater"].versions["1"].edition_sha256;
    assert_ne!(with_table, &bare);
    // SHA-256 of "component aa\ntable rates bb\n".
    use sha2::Digest;
    let expected = hex::encode(sha2::Sha256::digest(b"component aa\ntable rates bb\n"));
    assert_eq!(with_table, &expected);
}
