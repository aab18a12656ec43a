//! The PostgreSQL store's own tests; most run against `LPW_TEST_POSTGRES`.

use super::*;
use std::sync::Arc;

/// On the server `LPW_TEST_POSTGRES` names (as `cargo xtask test`'s PostgreSQL step sets
/// it), a new database named `PREFIX_random`: a connection to the server's `postgres`
/// database, the server's URL and the new name. `None` without a server.
async fn new_database(prefix: &str) -> Option<(tokio_postgres::Client, String, String)> {
    let server = std::env::var("LPW_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())?
        .trim_end_matches('/')
        .to_string();
    let name = format!("{prefix}_{}", crate::keys::random_hex(6));
    let (admin, connection) = tokio_postgres::connect(&format!("{server}/postgres"), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    Some((admin, server, name))
}

/// Drops a database [`new_database`] made, with whatever is still connected to it.
async fn drop_database(admin: &tokio_postgres::Client, name: &str) {
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}

/// The tenant's connections plan each statement once (see `connect`), and options given in
/// the URL are kept beside that one. Runs against `LPW_TEST_POSTGRES`.
#[tokio::test]
async fn connections_use_generic_plans_and_keep_the_urls_options() {
    let Some((admin, server, name)) = new_database("lpw_options").await else {
        return;
    };
    let url = format!("{server}/{name}?options=-c%20statement_timeout%3D4321");
    let store = PostgresStore::connect(&url).await.unwrap();
    let client = store.shared().await.unwrap();
    let show = |setting: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(&format!("SHOW {setting}"), &[])
                .await
                .unwrap()
                .get::<_, String>(0)
        }
    };
    assert_eq!(show("plan_cache_mode").await, "force_generic_plan");
    assert_eq!(show("statement_timeout").await, "4321ms");
    drop(client);
    drop(store);
    drop_database(&admin, &name).await;
}

/// A connection to a database that stops acknowledging fails within seconds, not the
/// kernel's quarter of an hour (see `dead_peer_limits`), and limits the URL gives win.
#[test]
fn connections_give_up_on_a_dead_peer_within_seconds() {
    let config = client_config("postgres://u@db.example:5432/lpw").unwrap();
    assert_eq!(config.get_tcp_user_timeout(), Some(&DEAD_PEER_AFTER));
    assert!(config.get_keepalives());
    assert_eq!(config.get_keepalives_idle(), KEEPALIVE_IDLE);
    assert_eq!(config.get_keepalives_interval(), Some(KEEPALIVE_INTERVAL));
    assert_eq!(config.get_keepalives_retries(), Some(KEEPALIVE_RETRIES));
    assert!(DEAD_PEER_AFTER <= Duration::from_secs(30));

    let given = client_config(
        "postgres://u@db.example/lpw?tcp_user_timeout=60&keepalives_idle=120\
         &keepalives_interval=20&keepalives_retries=9&keepalives=0",
    )
    .unwrap();
    assert_eq!(given.get_tcp_user_timeout(), Some(&Duration::from_secs(60)));
    assert!(!given.get_keepalives());
    assert_eq!(given.get_keepalives_idle(), Duration::from_secs(120));
    assert_eq!(
        given.get_keepalives_interval(),
        Some(Duration::from_secs(20))
    );
    assert_eq!(given.get_keepalives_retries(), Some(9));
    // The plan setting joins the URL's options; it does not replace them.
    let options =
        client_config("postgres://u@db.example/lpw?options=-c%20statement_timeout%3D5000")
            .unwrap()
            .get_options()
            .map(str::to_string);
    assert_eq!(
        options.as_deref(),
        Some("-c statement_timeout=5000 -c plan_cache_mode=force_generic_plan")
    );
}

/// An instance keeps at most the connections it is given, however many requests wait,
/// and by default one per core. Runs against `LPW_TEST_POSTGRES`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_are_as_many_as_asked() {
    let Some((admin, server, name)) = new_database("lpw_connections").await else {
        return;
    };
    let url = format!("{server}/{name}");
    let open_on_server = || async {
        let n: i64 = admin
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        n as usize
    };
    for (asked, expected) in [(Some(3), 3), (None, default_connections())] {
        let store = Arc::new(match asked {
            Some(n) => PostgresStore::connect_with(&url, n).await.unwrap(),
            None => PostgresStore::connect(&url).await.unwrap(),
        });
        // Forty lookups at once, each a moment long: every lane opens its connection, none more.
        let lookups: Vec<_> = (0..40)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store.opt_row("SELECT pg_sleep(0.02)", &[]).await.unwrap();
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let busy = open_on_server().await;
        for l in lookups {
            l.await.unwrap();
        }
        assert_eq!(
            busy, expected,
            "connections open while forty wait ({asked:?} asked)"
        );
        assert_eq!(store.connections(), expected);
        drop(store);
        for _ in 0..100 {
            if open_on_server().await == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    drop_database(&admin, &name).await;
}

/// A transaction has its lane to itself, and single statements meanwhile take the other
/// lanes rather than wait for it: with two connections, forty lookups finish while a
/// transaction holds one; with one, a lookup waits until the transaction ends. Runs against
/// `LPW_TEST_POSTGRES`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_pass_a_transaction_on_another_lane() {
    let Some((admin, server, name)) = new_database("lpw_lanes").await else {
        return;
    };
    let url = format!("{server}/{name}");
    let two = Arc::new(PostgresStore::connect_with(&url, 2).await.unwrap());
    two.warm_up().await.unwrap();
    let mut held = two.exclusive().await.unwrap();
    let tx = held.transaction().await.unwrap();
    tx.execute("SELECT 1", &[]).await.unwrap();
    let lookups: Vec<_> = (0..40)
        .map(|_| {
            let store = two.clone();
            tokio::spawn(async move { store.opt_row("SELECT 1", &[]).await.unwrap() })
        })
        .collect();
    for l in lookups {
        tokio::time::timeout(std::time::Duration::from_secs(10), l)
            .await
            .expect("a lookup waited for the transaction on the other lane")
            .unwrap();
    }
    tx.commit().await.unwrap();
    drop(held);

    let one = Arc::new(PostgresStore::connect_with(&url, 1).await.unwrap());
    let held = one.exclusive().await.unwrap();
    let lookup = {
        let store = one.clone();
        tokio::spawn(async move { store.opt_row("SELECT 1", &[]).await.unwrap() })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !lookup.is_finished(),
        "a lookup shared a lane held by a transaction"
    );
    drop(held);
    tokio::time::timeout(std::time::Duration::from_secs(10), lookup)
        .await
        .expect("the lookup ran once the transaction ended")
        .unwrap();
    drop((two, one));
    drop_database(&admin, &name).await;
}

/// A lane whose connection the server closed gets a new one at once: after the backends are
/// terminated, a statement runs again on a new backend, with every lane's connection open (so
/// the closed one must give its pool slot back first). Runs against `LPW_TEST_POSTGRES`.
#[tokio::test]
async fn a_lane_whose_connection_closed_reconnects() {
    let Some((admin, server, name)) = new_database("lpw_reconnect").await else {
        return;
    };
    let store = PostgresStore::connect_with(&format!("{server}/{name}"), 1)
        .await
        .unwrap();
    let backend = || async {
        store
            .opt_row("SELECT pg_backend_pid()", &[])
            .await
            .map(|r| r.map(|r| r.get::<_, i32>(0)))
    };
    let before = backend().await.unwrap();
    let terminated = std::time::Instant::now();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap();
    // A statement already on its way when the server hung up may fail; the next ones find
    // the lane's connection closed and open another.
    let mut after = None;
    for _ in 0..50 {
        if let Ok(pid) = backend().await {
            after = pid;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        after.is_some(),
        "no statement ran after the backend was terminated"
    );
    assert_ne!(after, before, "the same backend answered");
    assert!(
        terminated.elapsed() < std::time::Duration::from_secs(5),
        "reconnecting took {:?} (the pool's wait_timeout is 10 s)",
        terminated.elapsed()
    );
    drop(store);
    drop_database(&admin, &name).await;
}

/// The purge keeps no row locked beyond its own table's delete: while it waits for a lock
/// on `events`, a new code for a number whose expired code it already deleted is stored at
/// once. Runs against `LPW_TEST_POSTGRES`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_holds_no_row_past_its_own_delete() {
    let Some((admin, server, name)) = new_database("lpw_purge_locks").await else {
        return;
    };
    let url = format!("{server}/{name}");
    let store = Arc::new(PostgresStore::connect_with(&url, 2).await.unwrap());
    let now = 1_800_000_000;
    store
        .put_code("+31612345678", "app", "flow-1", &[1; 33], now - 10)
        .await
        .unwrap();
    let (mut locker, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    let lock = locker.transaction().await.unwrap();
    lock.batch_execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let purge = {
        let store = store.clone();
        tokio::spawn(async move { store.purge(now, 0).await.unwrap() })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!purge.is_finished(), "the purge did not wait for events");
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        store.put_code("+31612345678", "app", "flow-2", &[2; 33], now + 300),
    )
    .await
    .expect("a new code waited for the purge of other tables")
    .unwrap();
    lock.commit().await.unwrap();
    let purged = purge.await.unwrap();
    assert_eq!(purged.codes, 1);
    drop((store, locker));
    drop_database(&admin, &name).await;
}

/// Warming up opens every connection the store may keep and writes nothing. Runs against
/// `LPW_TEST_POSTGRES`.
#[tokio::test]
async fn warming_up_opens_every_connection_and_writes_nothing() {
    let Some((admin, server, name)) = new_database("lpw_warm").await else {
        return;
    };
    let store = PostgresStore::connect_with(&format!("{server}/{name}"), 3)
        .await
        .unwrap();
    assert_eq!(
        store.pool.status().size,
        1,
        "connecting opens one (migrations)"
    );
    store.warm_up().await.unwrap();
    assert_eq!(store.pool.status().size, 3);
    assert_eq!(
        store.row_counts().await.unwrap(),
        RowCounts::default(),
        "nothing written"
    );
    drop(store);
    drop_database(&admin, &name).await;
}

/// A database at schema version 2 (what session 5's tenant made) with a user, a live
/// session and a revoked refresh family migrates to the newest version and keeps its state.
/// Runs against `LPW_TEST_POSTGRES` (as `cargo xtask test`'s PostgreSQL step sets it).
#[tokio::test]
async fn a_version_2_database_migrates_and_keeps_its_state() {
    let Some((_admin, server, name)) = new_database("lpw_migration").await else {
        return;
    };
    let url = format!("{server}/{name}");
    {
        let (old, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
        tokio::spawn(connection);
        old.batch_execute(
            "CREATE TABLE schema_migrations (
               version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await
        .unwrap();
        for (i, step) in MIGRATIONS[..2].iter().enumerate() {
            old.batch_execute(step).await.unwrap();
            old.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&(i as i64 + 1)],
            )
            .await
            .unwrap();
        }
        old.batch_execute(
            "INSERT INTO users VALUES ('u1', '+12015550123', 1, 2);
             INSERT INTO sessions VALUES ('\\x01', 'u1', 9999999999);
             INSERT INTO refresh_families VALUES ('fam-revoked', true);
             INSERT INTO refresh_tokens VALUES ('\\x02', 'fam-revoked', 'app', 'u1', 'openid',
               NULL, 9999999999, false);
             INSERT INTO blocks VALUES ('fail-phone:+12015550123', 3, 0);",
        )
        .await
        .unwrap();
    }
    let store = PostgresStore::connect(&url).await.unwrap();
    let (user, auth_time) = store.session_user(&[1], 100).await.unwrap().unwrap();
    assert_eq!(user.phone, "+12015550123");
    assert!(
        auth_time > 1_700_000_000,
        "counted from the migration: {auth_time}"
    );
    assert!(matches!(
        store.use_refresh(&[2], "app", 100).await.unwrap(),
        RefreshOutcome::Invalid
    ));
    assert_eq!(
        store.number("+12015550123").await.unwrap(),
        Number {
            registered: true,
            login_ip: None
        }
    );
    // The old failure row takes strikes; a new ticket needs its binding.
    let l = Lockout {
        threshold: 4,
        base_secs: 900,
        max_secs: 86_400,
    };
    store
        .record_failure("fail-phone:+12015550123", l, 100)
        .await
        .unwrap();
    assert!(matches!(
        store
            .take(&["fail-phone:+12015550123"], &[], 100)
            .await
            .unwrap(),
        Err(Refusal::Blocked(900))
    ));
    store
        .put_code("+12015550123", "app", "flow", b"mac", 200)
        .await
        .unwrap();
    let ticket = NewTicket {
        id: "t".into(),
        client_id: "app".into(),
        expires_at: 200,
        binding: b"bound".to_vec(),
    };
    let user = store
        .finish_verification(
            &Asking::new("+12015550123", "192.0.2.1"),
            "flow",
            "fail-ip:192.0.2.1",
            100,
            "not-used",
            Some(&ticket),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, "u1", "the existing user, not a new one");
    assert!(store
        .redeem_ticket("t", "app", b"other", 100, &[3], 300)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .redeem_ticket("t", "app", b"bound", 100, &[3], 300)
        .await
        .unwrap()
        .is_some());
    drop(store);
    // A second start finds nothing to do.
    let again = PostgresStore::connect(&url).await.unwrap();
    let versions: i64 = again
        .shared()
        .await
        .unwrap()
        .query_one("SELECT MAX(version) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(versions as usize, MIGRATIONS.len());
}
