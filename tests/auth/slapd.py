"""A real OpenLDAP server (Debian's slapd) for the directory sign-in tests.

``Slapd.start`` writes a slapd.conf (mdb backend, the standard schemas plus the few Active
Directory attributes the tests use), generates a CA and a server certificate for StartTLS,
starts slapd in the foreground on a free loopback port — as ``nobody`` when the tests run as
root, so the server never runs privileged — and loads the people below with ``ldapadd``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SUFFIX = "dc=example,dc=com"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root-secret"
SEARCH_DN = f"cn=search,{SUFFIX}"
SEARCH_PASSWORD = "search-secret"
PEOPLE = f"ou=people,{SUFFIX}"
SLAPD = "/usr/sbin/slapd"  # Debian's; not on a non-root PATH

# Attributes as Active Directory has them (OIDs from Microsoft's schema), on an auxiliary class
# of the tests' own, so one entry can be both inetOrgPerson and "AD-like".
AD_SCHEMA = """
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
    EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.141 NAME 'department'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.901.1 NAME 'testAdAccount' AUXILIARY
    MAY ( userAccountControl $ sAMAccountName $ department ) )
"""

MISSING = (
    "{tool} is needed for the directory sign-in tests and is not installed (Debian packages "
    "slapd, ldap-utils and openssl): run `make setup-dev`, or `DEBIAN_FRONTEND=noninteractive "
    "apt-get install -y slapd ldap-utils openssl`"
)


@dataclass(frozen=True)
class Person:
    """One directory entry: uid, 工号 (employeeNumber), password and the rest."""

    uid: str
    employee_no: str
    password: str
    name: str
    department: str = ""
    mail: str = ""
    sam: str = ""  # sAMAccountName
    account_control: int = 512  # userAccountControl: 512 normal, 514 disabled
    employee_type: str = ""


PEOPLE_LOADED = (
    Person(
        "zhangsan", "E1001", "Dir-Pass-1001", "张三", "销售部", "zhangsan@example.com", "zhangs"
    ),
    Person("lisi", "E1002", "Dir-Pass-1002", "李四", "销售部", sam="lis", account_control=514),
    Person("wangwu", "E1003", "Dir-Pass-1003", "王五", "客服部", sam="wangw"),
    Person("zhaoliu", "E1004", "Dir-Pass-1004", "赵六", "客服部", "zhaoliu@example.com", "zhaol"),
    Person("qianqi", "E1005", "Dir-Pass-1005", "钱七", "前台", employee_type="离职"),
    Person("hr1", "H0001", "Dir-Pass-H001", "人事甲", "人事行政部", sam="hr1"),
    Person("twin1", "E1009", "Dir-Pass-1009", "同号甲"),
    Person("twin2", "E1009", "Dir-Pass-1009", "同号乙"),
    Person("star", "E*", "Dir-Pass-star", "星号"),
    Person("noname", "E1010", "Dir-Pass-1010", ""),
)


def _ldif(person: Person) -> str:
    lines = [
        f"dn: uid={person.uid},{PEOPLE}",
        "objectClass: inetOrgPerson",
        "objectClass: testAdAccount",
        f"uid: {person.uid}",
        f"cn: {person.name or person.uid}",
        f"sn: {person.name or person.uid}",
        f"employeeNumber: {person.employee_no}",
        f"userPassword: {person.password}",
        f"userAccountControl: {person.account_control}",
    ]
    if person.name:
        lines.append(f"displayName: {person.name}")
    if person.department:
        lines += [f"departmentNumber: {person.department}", f"department: {person.department}"]
    if person.mail:
        lines.append(f"mail: {person.mail}")
    if person.sam:
        lines.append(f"sAMAccountName: {person.sam}")
    if person.employee_type:
        lines.append(f"employeeType: {person.employee_type}")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60, **kwargs)  # noqa: S603


@dataclass
class Slapd:
    """A running slapd: ``url`` is plain LDAP on the loopback address (StartTLS offered),
    ``tls_url`` LDAP over TLS."""

    folder: Path
    port: int
    tls_port: int  # ldaps://
    process: subprocess.Popen
    ca_file: Path
    people: tuple[Person, ...] = field(default=PEOPLE_LOADED)

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def settings(self, **overrides) -> dict:
        """The app's LDAP_* settings for this server (OpenLDAP style: employeeNumber)."""
        return {
            "LDAP_URL": self.url,
            "LDAP_BIND_DN": SEARCH_DN,
            "LDAP_BIND_PASSWORD": SEARCH_PASSWORD,
            "LDAP_BASE_DN": PEOPLE,
            "LDAP_USER_FILTER": "(&(objectClass=inetOrgPerson)(employeeNumber={employee_no}))",
            "LDAP_NAME_ATTRIBUTE": "displayName",
            "LDAP_DEPARTMENT_ATTRIBUTE": "departmentNumber",
            "LDAP_TIMEOUT": 5,
        } | overrides

    def ldapadd(self, ldif: str) -> None:
        _run("ldapadd", "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD, input=ldif)

    @classmethod
    def start(cls) -> Slapd:
        if shutil.which("slapd") is None and not Path(SLAPD).exists():
            raise RuntimeError(MISSING.format(tool="slapd"))
        for tool in ("ldapadd", "openssl"):
            if shutil.which(tool) is None:
                raise RuntimeError(MISSING.format(tool=tool))
        folder = Path(tempfile.mkdtemp(prefix="slapd-"))
        as_root = os.geteuid() == 0
        ca_file = _certificates(folder)
        (folder / "data").mkdir()
        (folder / "ad.schema").write_text(AD_SCHEMA, "utf-8")
        schema = "\n".join(
            f"include /etc/ldap/schema/{name}.schema"
            for name in ("core", "cosine", "inetorgperson", "nis")
        )
        (folder / "slapd.conf").write_text(
            f"""{schema}
include {folder}/ad.schema
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {folder}/ca.pem
TLSCertificateFile {folder}/server.pem
TLSCertificateKeyFile {folder}/server.key
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {folder}/data
access to attrs=userPassword
    by self read
    by anonymous auth
    by * none
access to *
    by dn.exact="{SEARCH_DN}" read
    by self read
    by * none
""",
            "utf-8",
        )
        if as_root:
            nobody = pwd.getpwnam("nobody")
            for path in [folder, *folder.rglob("*")]:
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
        slapd = shutil.which("slapd") or SLAPD
        last_error = ""
        for _ in range(5):  # a free port can be taken between choosing it and binding it
            port, tls_port = free_port(), free_port()
            command = [slapd, "-d", "0", "-f", str(folder / "slapd.conf")]
            # 127.0.0.2 too: an address the certificate does not name, for the host-name test.
            listen = f"ldap://127.0.0.1:{port}/ ldap://127.0.0.2:{port}/"
            command += ["-h", f"{listen} ldaps://127.0.0.1:{tls_port}/"]
            if as_root:
                command += ["-u", "nobody", "-g", "nogroup"]
            process = subprocess.Popen(  # noqa: S603
                command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
            if _wait_for(port, process) and _wait_for(tls_port, process):
                server = cls(folder, port, tls_port, process, ca_file)
                server._load()
                return server
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.kill()
                last_error = process.communicate(timeout=5)[1]
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"slapd did not start: {last_error.strip()[-2000:]}")

    def _load(self) -> None:
        base = f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: {SEARCH_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: search
userPassword: {SEARCH_PASSWORD}

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people
"""
        self.ldapadd(base + "\n" + "\n".join(_ldif(person) for person in self.people))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def _certificates(folder: Path) -> Path:
    """Make a CA and a server certificate for 127.0.0.1 and localhost; return the CA's file."""
    _run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=Test directory CA", "-keyout", str(folder / "ca.key"),
        "-out", str(folder / "ca.pem"),
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    _run(
        "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", str(folder / "server.key"), "-out", str(folder / "server.csr"),
    )  # fmt: skip
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n", "utf-8"
    )
    _run(
        "openssl", "x509", "-req", "-in", str(folder / "server.csr"), "-days", "2",
        "-CA", str(folder / "ca.pem"), "-CAkey", str(folder / "ca.key"), "-CAcreateserial",
        "-extfile", str(folder / "server.ext"), "-out", str(folder / "server.pem"),
    )  # fmt: skip
    # The app reads the CA from a file of its own, outside slapd's (nobody-owned) folder.
    return folder / "ca.pem"
