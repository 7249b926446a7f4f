"""CA, serving and client certificates, made with the openssl CLI (ECDSA P-256)."""

import os
import subprocess


def _run(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def _key(cwd, name):
    _run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name],
         cwd)
    os.chmod(os.path.join(cwd, name), 0o600)


def _signed(cwd, name, subj, ext):
    _key(cwd, name + ".key")
    _run(["req", "-new", "-key", name + ".key", "-subj", subj, "-out", name + ".csr"], cwd)
    with open(os.path.join(cwd, name + ".ext"), "w") as f:
        f.write(ext)
    _run(["x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
          "-CAcreateserial", "-days", "3650", "-sha256", "-out", name + ".crt",
          "-extfile", name + ".ext"], cwd)
    os.unlink(os.path.join(cwd, name + ".csr"))
    os.unlink(os.path.join(cwd, name + ".ext"))


def generate(pki_dir):
    """Create ca.crt/ca.key, server.crt/server.key, client.crt/client.key in pki_dir."""
    os.makedirs(pki_dir, exist_ok=True)
    _key(pki_dir, "ca.key")
    _run(["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=mbcas-emulator-ca",
          "-days", "3650", "-sha256", "-out", "ca.crt",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], pki_dir)
    _signed(pki_dir, "server", "/CN=kube-apiserver",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n")
    _signed(pki_dir, "client", "/O=system:masters/CN=mbcas-admin",
            "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n")
