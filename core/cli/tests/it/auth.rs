//! `bexio-bi auth login` against a sandbox, with the test as the browser; then syncs that renew
//! the sign-in as bexio does (rotating refresh tokens, revoking a sign-in whose retired refresh
//! token comes back).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::{bin, serve};

/// A fresh BEXIO_BI_HOME with one OAuth company `alpha` on the sandbox at `url`.
fn home_with_oauth_tenant(tag: &str, url: &str) -> PathBuf {
    let home = std::env::temp_dir().join(format!("bexio-bi-auth-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[[tenant]]\nname = \"alpha\"\nbase_url = \"{url}\"\nauth = \"oauth\"\nclient_id = \"bexio-bi-cli\"\n"
        ),
    )
    .expect("config");
    home
}

fn cli(home: &Path) -> Command {
    let mut c = bin();
    // No desktop: the login must not try to open a browser.
    c.env("BEXIO_BI_HOME", home)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    c
}

fn run(home: &Path, args: &[&str]) -> Output {
    cli(home).args(args).output().expect("run bexio-bi")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Starts `auth login` and returns it with the authorization URL it printed.
fn start_login(home: &Path, extra: &[&str]) -> (Child, String) {
    start(cli(home), extra)
}

/// Starts `auth login` from `cmd` (environment set) for `alpha`.
fn start(mut cmd: Command, extra: &[&str]) -> (Child, String) {
    let mut child = cmd
        .args([
            "auth",
            "login",
            "--tenant",
            "alpha",
            "--no-browser",
            "--json",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start auth login");
    match child.stderr.take().map(link) {
        Some(Ok(url)) => (child, url),
        other => {
            let _ = child.kill();
            let status = child.wait();
            panic!("auth login printed no link ({status:?}): {other:?}");
        }
    }
}

/// Reads stderr up to the printed authorization URL, then drains the rest in the background.
fn link(stderr: std::process::ChildStderr) -> Result<String, String> {
    let mut stderr = BufReader::new(stderr);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).map_or(true, |n| n == 0) {
            return Err(seen);
        }
        seen.push_str(&line);
        if let Some(url) = line
            .split_whitespace()
            .find(|w| w.contains("/protocol/openid-connect/auth?"))
        {
            // Keep draining so that the child never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return Ok(url.to_owned());
        }
    }
}

/// The browser: follows the link, picks the company on the realm's page when it shows one,
/// and is sent back to the CLI's callback. Returns the page the CLI answered.
async fn browse(url: &str, base: &str, company_id: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let mut resp = http.get(url).send().await.expect("authorize");
    if resp.status() == 200 {
        // Several companies and no hint: the realm asks which one.
        let page = resp.text().await.expect("page");
        let anchor = format!("id=\"company-{company_id}\" href=\"");
        let at = page.find(&anchor).expect("the company is offered") + anchor.len();
        let href = page[at..]
            .split('"')
            .next()
            .expect("href")
            .replace("&amp;", "&");
        resp = http
            .get(format!("{base}{href}"))
            .send()
            .await
            .expect("choose");
    }
    assert_eq!(resp.status(), 302, "the realm sends the browser back");
    let back = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        back.starts_with("http://127.0.0.1:") && back.contains("/callback?"),
        "{back}"
    );
    let page = http.get(&back).send().await.expect("callback");
    assert_eq!(page.status(), 200);
    page.text().await.expect("callback page")
}

fn finish_login(child: Child) -> serde_json::Value {
    let out = child.wait_with_output().expect("auth login ends");
    assert!(out.status.success(), "auth login failed: {out:?}");
    serde_json::from_slice(&out.stdout).expect("auth login --json prints JSON")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// `secrets.toml`, decrypted with the store's key as the binary does (it is sealed on disk).
fn secrets(home: &Path) -> toml::Table {
    use bexio_bi_store::crypt::{self, Keyring};
    let path = home.join("secrets.toml");
    let bytes = std::fs::read(&path).expect("secrets.toml");
    assert!(crypt::is_sealed(&bytes), "secrets.toml is encrypted");
    let keys = Keyring::unlock(&home.join("data").join("key.json"), super::TEST_PASSWORD)
        .expect("the store's key");
    let plain = keys
        .open_file(&bytes, b"secrets.toml", &path)
        .expect("decrypts");
    toml::from_str(std::str::from_utf8(&plain).expect("UTF-8")).expect("secrets.toml is TOML")
}

fn refresh_token(home: &Path) -> String {
    secrets(home)["tokens"]["alpha"]["refresh_token"]
        .as_str()
        .expect("an OAuth sign-in for alpha")
        .to_owned()
}

#[test]
fn login_in_the_browser_then_sync_with_the_stored_sign_in() {
    let (mut sandbox, ready) = serve(&[
        "--companies",
        "2",
        "--invoices",
        "150",
        "--time-scale",
        "60",
    ]);
    let url = ready["url"].as_str().expect("url");
    let home = home_with_oauth_tenant("login", url);
    // The second company, chosen on the realm's page (no --login-hint).
    let company = ready["tenants"][1]["company_id"].as_str().expect("company");

    let (child, link) = start_login(&home, &[]);
    assert!(link.contains("code_challenge_method=S256"), "{link}");
    assert!(link.contains("offline_access"), "{link}");
    let page = rt().block_on(browse(&link, url, company));
    assert!(page.contains("You can close this window"), "{page}");
    let signed_in = finish_login(child);
    assert_eq!(signed_in["tenant"], "alpha");
    assert_eq!(signed_in["company_id"], company, "{signed_in}");
    assert!(
        signed_in["user"].as_str().is_some_and(|u| u.contains('@')),
        "{signed_in}"
    );

    // Stored in secrets.toml, owner-only; nothing in config.toml.
    let stored = secrets(&home);
    let alpha = &stored["tokens"]["alpha"];
    for k in ["refresh_token", "access_token"] {
        assert!(
            alpha[k].as_str().is_some_and(|t| t.starts_with("eyJ")),
            "{k}"
        );
    }
    assert!(alpha["access_expires_unix"].as_integer().is_some());
    assert!(
        !std::fs::read_to_string(home.join("config.toml"))
            .expect("config")
            .contains("eyJ")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.join("secrets.toml"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let out = run(&home, &["sync", "--tenant", "alpha", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sync --json");
    assert_eq!(summary[0]["outcome"], "synced", "{summary}");
    assert_eq!(summary[0]["tables"]["fact_invoice"], 150, "{summary}");

    let _ = sandbox.kill();
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn syncs_renew_the_sign_in_and_keep_every_rotated_refresh_token() {
    // Access tokens live half a real second (30 simulated seconds at 60×) while the client
    // believes their `expires_in`: they expire mid-sync and draw 401s. 150 requests a real
    // second make the sync last a few seconds.
    let (mut sandbox, ready) = serve(&[
        "--invoices",
        "300",
        "--time-scale",
        "60",
        "--token-ttl",
        "30",
        "--limit-default",
        "150",
    ]);
    let url = ready["url"].as_str().expect("url");
    let home = home_with_oauth_tenant("rotate", url);
    let company = ready["tenants"][0]["company_id"].as_str().expect("company");

    let (child, link) = start_login(&home, &["--login-hint", company]);
    assert!(link.contains(&format!("login_hint={company}")), "{link}");
    rt().block_on(browse(&link, url, company));
    finish_login(child);
    let signed_in = refresh_token(&home);

    let sync = |home: &Path| {
        let out = run(home, &["sync", "--tenant", "alpha", "--json", "-v"]);
        assert!(
            out.status.success(),
            "{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(summary[0]["tables"]["fact_invoice"], 300, "{summary}");
        text(&out.stderr)
            .matches("renewed the OAuth access token")
            .count()
    };
    let renewals = sync(&home);
    assert!(
        renewals >= 2,
        "the sync outlived several access tokens: {renewals}"
    );
    let after_first = refresh_token(&home);
    assert_ne!(
        after_first, signed_in,
        "the rotated refresh token was stored"
    );

    // The stored refresh token is the live one: had an older one been stored, presenting it
    // would have revoked the sign-in and this sync would fail.
    std::thread::sleep(Duration::from_millis(600));
    assert!(sync(&home) >= 1);
    assert_ne!(refresh_token(&home), after_first);

    // A retired refresh token comes back (a leaked copy): bexio revokes the whole sign-in, and
    // the next sync says what to do.
    let issuer = format!("{url}/realms/bexio");
    let status = rt().block_on(async {
        reqwest::Client::new()
            .post(format!("{issuer}/protocol/openid-connect/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", signed_in.as_str()),
                ("client_id", "bexio-bi-cli"),
            ])
            .send()
            .await
            .expect("token endpoint")
            .status()
    });
    assert_eq!(status, 400);
    std::thread::sleep(Duration::from_millis(600));
    let out = run(&home, &["sync", "--tenant", "alpha"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("alpha: FAILED")
            && said.contains("sign in again: bexio-bi auth login --tenant alpha"),
        "{said}"
    );
    assert!(!said.contains("eyJ"), "no token in messages: {said}");

    let _ = sandbox.kill();
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_garbage_refresh_token_says_to_sign_in_again() {
    let (mut sandbox, ready) = serve(&["--invoices", "50"]);
    let url = ready["url"].as_str().expect("url");
    let home = home_with_oauth_tenant("garbage", url);
    std::fs::write(
        home.join("secrets.toml"),
        "[tokens.alpha]\nrefresh_token = \"garbage\"\naccess_token = \"garbage\"\naccess_expires_unix = 0\n",
    )
    .expect("secrets");
    let out = run(&home, &["sync", "--tenant", "alpha"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("alpha: FAILED")
            && said.contains("no longer accepts the OAuth sign-in of alpha")
            && said.contains("bexio-bi auth login --tenant alpha"),
        "{said}"
    );
    assert!(!text(&out.stderr).contains("panicked"));

    // Signed in nowhere yet: the same advice, as a usage error.
    std::fs::remove_file(home.join("secrets.toml")).expect("rm");
    let out = run(&home, &["sync", "--tenant", "alpha"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("bexio-bi auth login --tenant alpha"),
        "{}",
        text(&out.stdout)
    );

    let _ = sandbox.kill();
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn login_refuses_pat_companies_times_out_clearly_and_teaches() {
    let home = home_with_oauth_tenant("usage", "http://127.0.0.1:9");
    std::fs::write(
        home.join("config.toml"),
        "[[tenant]]\nname = \"alpha\"\nbase_url = \"http://127.0.0.1:9\"\nauth = \"oauth\"\nclient_id = \"bexio-bi-cli\"\n\n[[tenant]]\nname = \"beta\"\n",
    )
    .expect("config");
    let out = run(
        &home,
        &["auth", "login", "--tenant", "beta", "--no-browser"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.contains("auth = \"oauth\"") && err.contains("bexio-bi auth token --tenant beta"),
        "{err}"
    );
    let out = run(
        &home,
        &["auth", "login", "--tenant", "alpha", "--timeout", "soon"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    // Nobody comes back from the browser.
    let out = run(
        &home,
        &[
            "auth",
            "login",
            "--tenant",
            "alpha",
            "--no-browser",
            "--timeout",
            "1s",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.contains("no sign-in arrived within 1 s")
            && err.contains("bexio-bi auth login --tenant alpha"),
        "{err}"
    );
    assert!(!home.join("secrets.toml").exists());

    let out = run(&home, &["auth", "login", "--help"]);
    let help = text(&out.stdout);
    for needle in [
        "Examples:",
        "--no-browser",
        "--timeout",
        "client_id",
        "ssh -L",
    ] {
        assert!(
            help.contains(needle),
            "auth login --help lacks {needle}: {help}"
        );
    }
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_confidential_apps_secret_comes_from_the_environment_and_is_kept_for_syncs() {
    // Access tokens of two seconds: the sync after the login must renew, which the realm
    // allows this app only with its secret.
    let (mut sandbox, ready) = serve(&["--invoices", "60", "--token-ttl", "2"]);
    let url = ready["url"].as_str().expect("url");
    let secret = ready["oauth"]["client_secret"].as_str().expect("secret");
    let home = home_with_oauth_tenant("confidential", url);
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[[tenant]]\nname = \"alpha\"\nbase_url = \"{url}\"\nauth = \"oauth\"\nclient_id = \"bexio-bi\"\n"
        ),
    )
    .expect("config");
    let company = ready["tenants"][0]["company_id"].as_str().expect("company");

    let mut login = cli(&home);
    login.env("BEXIO_BI_TENANT_ALPHA_CLIENT_SECRET", secret);
    let (child, link) = start(login, &[]);
    assert!(!link.contains(secret), "the secret stays out of the link");
    rt().block_on(browse(&link, url, company));
    finish_login(child);
    assert_eq!(
        secrets(&home)["tokens"]["alpha"]["client_secret"].as_str(),
        Some(secret)
    );
    assert!(
        !std::fs::read_to_string(home.join("config.toml"))
            .expect("config")
            .contains(secret)
    );

    std::thread::sleep(Duration::from_millis(2100));
    let before = refresh_token(&home);
    let out = run(&home, &["sync", "--tenant", "alpha", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_ne!(refresh_token(&home), before, "renewed with the kept secret");

    let _ = sandbox.kill();
    let _ = std::fs::remove_dir_all(&home);
}
