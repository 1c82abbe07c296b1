//! TLS from the daemon to Postgres, against a real cluster this test starts
//! with `ssl=on` and a CA and server certificate it makes with the `openssl`
//! command line: `verify-full` passes with the right CA and host name and
//! fails with a wrong host or a wrong CA; `verify-ca` ignores the host name;
//! `require` connects without a CA; and `require` refuses a server without
//! TLS. Every connection goes through the daemon's own connector factory
//! (`DatabaseConnector`), both directly and through the pool.
//!
//! Postgres refuses to run as root, so as root the cluster runs as the
//! `postgres` user (`runuser`), as `scripts/lib/db.sh` does.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use session_daemon::database::{build_pool_of_size, check_reachable};
use session_daemon::database_tls::{DatabaseConnector, SslMode, TlsSettings};

const HOST_NAME: &str = "db.wabot.test";

fn postgres_binary(name: &str) -> PathBuf {
    for folder in ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin"] {
        let path = Path::new(folder).join(name);
        if path.exists() {
            return path;
        }
    }
    PathBuf::from(name)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a Postgres program, as the `postgres` user when we are root.
fn as_postgres(program: &Path, arguments: &[&str]) -> std::process::Output {
    let mut command = if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    command
        .args(arguments)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("could not run {}: {error}", program.display()))
}

fn openssl(folder: &Path, arguments: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(folder)
        .args(arguments)
        .output()
        .expect("the openssl command line");
    assert!(
        output.status.success(),
        "openssl {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn make_ca(folder: &Path, name: &str) {
    openssl(
        folder,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

fn make_server_certificate(folder: &Path, ca: &str) {
    openssl(
        folder,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={HOST_NAME}"),
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        folder.join("server.ext"),
        format!(
            "subjectAltName=DNS:{HOST_NAME}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        ),
    )
    .expect("the extensions file");
    openssl(
        folder,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// A cluster in a temporary folder, stopped and removed on drop.
struct Cluster {
    folder: PathBuf,
    port: u16,
}

impl Cluster {
    fn data(&self) -> String {
        self.folder.join("data").display().to_string()
    }

    fn start(&self, ssl: bool) {
        let mut options = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.folder.display()
        );
        if ssl {
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                self.folder.display()
            ));
        } else {
            options.push_str(" -c ssl=off");
        }
        let log = self.folder.join("postgres.log").display().to_string();
        let output = as_postgres(
            &postgres_binary("pg_ctl"),
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        assert!(
            output.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.folder.join("postgres.log")).unwrap_or_default()
        );
    }

    fn stop(&self) {
        let _ = as_postgres(
            &postgres_binary("pg_ctl"),
            &["-D", &self.data(), "-m", "fast", "-w", "stop"],
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn set_up() -> Cluster {
    let folder = std::env::temp_dir().join(format!("wabot-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&folder).expect("the folder");
    make_ca(&folder, "ca");
    make_ca(&folder, "other-ca");
    make_server_certificate(&folder, "ca");
    std::fs::write(folder.join("password"), "postgres\n").expect("the password file");
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&folder)
            .status()
            .expect("chown");
        assert!(status.success());
    }
    // Postgres insists: the key is the server user's and no one else's.
    let status = Command::new("chmod")
        .arg("0600")
        .arg(folder.join("server.key"))
        .status()
        .expect("chmod");
    assert!(status.success());
    let status = Command::new("chmod")
        .arg("0755")
        .arg(&folder)
        .status()
        .expect("chmod");
    assert!(status.success());
    let cluster = Cluster {
        port: free_port(),
        folder,
    };
    let password = cluster.folder.join("password").display().to_string();
    let output = as_postgres(
        &postgres_binary("initdb"),
        &[
            "-D",
            &cluster.data(),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            &format!("--pwfile={password}"),
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
    );
    assert!(
        output.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    cluster
}

fn url(cluster: &Cluster, host: &str, query: &str) -> String {
    format!(
        "postgresql://postgres:postgres@{host}:{}/postgres?hostaddr=127.0.0.1&{query}",
        cluster.port
    )
}

/// Connects through the connector factory and returns whether the session
/// is encrypted (`pg_stat_ssl`), or the error's text.
async fn try_connect(url: &str) -> Result<bool, String> {
    let connector =
        DatabaseConnector::from_url(url, &TlsSettings::default()).map_err(|e| e.to_string())?;
    let (client, connection) = tokio::time::timeout(Duration::from_secs(10), connector.connect())
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|error| session_daemon::database::error_chain(&error))?;
    let driver = tokio::spawn(connection);
    let row = client
        .query_one(
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|error| error.to_string())?;
    drop(client);
    let _ = driver.await;
    Ok(row.get::<_, bool>(0))
}

#[tokio::test]
async fn the_daemon_speaks_tls_to_postgres_as_sslmode_says() {
    let cluster = set_up();
    cluster.start(true);
    let ca = cluster.folder.join("ca.pem").display().to_string();
    let other_ca = cluster.folder.join("other-ca.pem").display().to_string();

    // verify-full, right CA and host: encrypted.
    let good = url(
        &cluster,
        HOST_NAME,
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    assert_eq!(try_connect(&good).await, Ok(true));

    // verify-full, wrong host name: refused.
    let wrong_host = url(
        &cluster,
        "other.wabot.test",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let error = try_connect(&wrong_host)
        .await
        .expect_err("a wrong host name is refused");
    assert!(
        error.to_lowercase().contains("not valid for name") || error.contains("NotValidForName"),
        "{error}"
    );

    // verify-full, wrong CA: refused.
    let wrong_ca = url(
        &cluster,
        HOST_NAME,
        &format!("sslmode=verify-full&sslrootcert={other_ca}"),
    );
    let error = try_connect(&wrong_ca)
        .await
        .expect_err("a wrong CA is refused");
    assert!(
        error.to_lowercase().contains("unknownissuer")
            || error.to_lowercase().contains("unknown issuer"),
        "{error}"
    );

    // verify-ca checks the chain, not the host.
    let chain_only = url(
        &cluster,
        "other.wabot.test",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    );
    assert_eq!(try_connect(&chain_only).await, Ok(true));
    let chain_only_wrong_ca = url(
        &cluster,
        HOST_NAME,
        &format!("sslmode=verify-ca&sslrootcert={other_ca}"),
    );
    assert!(try_connect(&chain_only_wrong_ca).await.is_err());

    // require: encrypted, no CA needed; verify-full without sslrootcert
    // (the Mozilla roots) refuses the test CA.
    assert_eq!(
        try_connect(&url(&cluster, HOST_NAME, "sslmode=require")).await,
        Ok(true)
    );
    assert!(
        try_connect(&url(&cluster, HOST_NAME, "sslmode=verify-full"))
            .await
            .is_err()
    );
    // The default off loopback (a host name that is not loopback) is
    // require: encrypted without asking.
    let default_mode = DatabaseConnector::from_url(
        &url(&cluster, HOST_NAME, "application_name=t"),
        &TlsSettings::default(),
    )
    .expect("a connector");
    assert_eq!(default_mode.ssl_mode(), SslMode::Require);
    assert_eq!(
        try_connect(&url(&cluster, HOST_NAME, "application_name=t")).await,
        Ok(true)
    );
    // disable: plaintext.
    assert_eq!(
        try_connect(&url(&cluster, HOST_NAME, "sslmode=disable")).await,
        Ok(false)
    );

    // The pools the daemon's workers use go through the same factory.
    let connector =
        DatabaseConnector::from_url(&good, &TlsSettings::default()).expect("a connector");
    let pool = build_pool_of_size(&connector, None, 1).expect("a pool");
    check_reachable(&pool)
        .await
        .expect("the pool connects with verify-full");
    let connector =
        DatabaseConnector::from_url(&wrong_host, &TlsSettings::default()).expect("a connector");
    let pool = build_pool_of_size(&connector, None, 1).expect("a pool");
    assert!(
        check_reachable(&pool).await.is_err(),
        "the pool refuses a wrong host name"
    );

    // A server without TLS: require fails, prefer falls back to plaintext.
    cluster.stop();
    cluster.start(false);
    let error = try_connect(&url(&cluster, HOST_NAME, "sslmode=require"))
        .await
        .expect_err("require refuses a server without TLS");
    assert!(
        error.to_lowercase().contains("tls") || error.to_lowercase().contains("ssl"),
        "{error}"
    );
    assert!(try_connect(&url(
        &cluster,
        HOST_NAME,
        &format!("sslmode=verify-full&sslrootcert={ca}")
    ))
    .await
    .is_err());
    assert_eq!(
        try_connect(&url(&cluster, HOST_NAME, "sslmode=prefer")).await,
        Ok(false)
    );
}
