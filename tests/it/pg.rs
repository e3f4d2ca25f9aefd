//! A real PostgreSQL for the tests: `initdb` and `postgres` into a temp
//! directory, on a free port of 127.0.0.1, started once per test process
//! when the suite runs on PostgreSQL (`MA_REGISTRY_TEST_STORE=postgres`)
//! or a test needs one of its own (the failover test). Each test gets a
//! new database. As root, the cluster runs as the `postgres` user (initdb
//! refuses root). The server dies with the test process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Whether the suite runs on PostgreSQL.
pub fn enabled() -> bool {
    std::env::var("MA_REGISTRY_TEST_STORE").as_deref() == Ok("postgres")
}

/// The directory holding PostgreSQL's programs (`initdb`, `postgres`,
/// `pg_ctl`, `pg_basebackup`): Debian's newest `/usr/lib/postgresql/N/bin`,
/// else a directory of `PATH` that has them all.
pub fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((n, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path).find(|dir| {
                ["initdb", "postgres", "pg_ctl", "pg_basebackup"]
                    .iter()
                    .all(|tool| dir.join(tool).exists())
            })
        })
        .expect("PostgreSQL is not installed (apt-get install postgresql)")
}

/// The uid and gid the cluster runs as: the `postgres` user when the
/// tests run as root, else none (the current user).
fn run_as() -> Option<(u32, u32)> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .expect("running as root, and no postgres user to run PostgreSQL as");
    let fields: Vec<&str> = line.split(':').collect();
    Some((fields[2].parse().unwrap(), fields[3].parse().unwrap()))
}

/// Runs `cmd` as the cluster's user.
pub fn as_cluster_user(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt as _;
    if let Some((uid, gid)) = run_as() {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn chown_to_cluster_user(path: &Path) {
    if let Some((uid, gid)) = run_as() {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A PostgreSQL cluster of the tests.
pub struct Cluster {
    /// Its data directory.
    pub data: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The running server, when started by [`Cluster::start`].
    pub child: Option<Child>,
}

/// Makes a new directory for clusters, owned by the cluster user.
pub fn cluster_root() -> PathBuf {
    // One directory per user: a root run leaves it to `postgres`.
    let base = std::env::temp_dir().join(format!("ma-registry-pg-{}", unsafe { libc::geteuid() }));
    std::fs::create_dir_all(&base).unwrap();
    // Directories of earlier test processes that are gone.
    for entry in std::fs::read_dir(&base).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.split('-').next().and_then(|p| p.parse::<i32>().ok());
        // Gone: no such process (not merely one of another user).
        if let Some(pid) = pid
            && unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = base.join(format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    chown_to_cluster_user(&base);
    chown_to_cluster_user(&dir);
    dir
}

impl Cluster {
    /// A new cluster under `root` (not started).
    pub fn init(root: &Path, name: &str) -> Self {
        let data = root.join(name);
        let out = as_cluster_user(&mut Command::new(bin_dir().join("initdb")))
            .args([
                "-U",
                "registry",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        Self {
            data,
            port,
            child: None,
        }
    }

    /// Appends settings to `postgresql.conf`.
    pub fn configure(&self, lines: &str) {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.data.join("postgresql.conf"))
            .unwrap();
        writeln!(f, "{lines}").unwrap();
    }

    /// Starts the server; it dies with the thread that started it (so
    /// start it from a thread that lives as long as it should).
    pub fn start(&mut self) {
        use std::os::unix::process::CommandExt as _;
        let log = std::fs::File::create(self.data.with_extension("log")).unwrap();
        let mut cmd = Command::new(bin_dir().join("postgres"));
        as_cluster_user(&mut cmd)
            .arg("-D")
            .arg(&self.data)
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.data.display()))
            .args(["-c", "max_connections=400", "-c", "fsync=on"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
                Ok(())
            });
        }
        self.child = Some(cmd.spawn().unwrap());
        self.wait_ready();
    }

    /// Waits until the server takes connections.
    pub fn wait_ready(&self) {
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self.sql("postgres", "SELECT 1").is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "PostgreSQL on port {} did not start: {}",
            self.port,
            std::fs::read_to_string(self.data.with_extension("log")).unwrap_or_default()
        );
    }

    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgresql://registry@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs SQL on database `db` (on a thread of its own, off any runtime).
    pub fn sql(&self, db: &str, sql: &str) -> Result<(), String> {
        query(&self.url(db), sql).map(drop)
    }

    /// Stops the server at once (`SIGKILL` to the postmaster: a crash).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `sql` on `url` and returns the first column of every row, as text.
pub fn query(url: &str, sql: &str) -> Result<Vec<String>, String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            let rows = client.simple_query(&sql).await.map_err(|e| {
                e.as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_owned())
            })?;
            Ok(rows
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                })
                .collect())
        })
    })
    .join()
    .unwrap()
}

/// The suite's shared cluster, started on first use.
fn shared() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        // The server dies with this thread, which lives as long as the
        // test process.
        std::thread::spawn(move || {
            let root = cluster_root();
            let mut cluster = Cluster::init(&root, "shared");
            cluster.configure("shared_buffers = 64MB\nsynchronous_commit = on");
            cluster.start();
            let view = Cluster {
                data: cluster.data.clone(),
                port: cluster.port,
                child: None,
            };
            tx.send(view).unwrap();
            loop {
                std::thread::park();
            }
        });
        rx.recv().unwrap()
    })
}

/// Drops the database of `url` in the suite's cluster, cutting the
/// connections still open on it.
pub fn drop_database(url: &str) {
    if let Some(name) = url.rsplit('/').next() {
        let _ = shared().sql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
    }
}

/// The URL of a new, empty database in the suite's cluster.
pub fn fresh_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let cluster = shared();
    let name = format!("t{}", N.fetch_add(1, Ordering::Relaxed));
    cluster
        .sql("postgres", &format!("CREATE DATABASE {name}"))
        .unwrap();
    cluster.url(&name)
}
