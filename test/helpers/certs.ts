/**
 * A throw-away PKI for TLS tests, made with the openssl CLI in a temp dir: a CA, a server certificate
 * for 127.0.0.1/localhost and client certificates. EC P-256 keys keep generation fast.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../devstack/tempDirs.js";

export interface CertFiles {
  /** PEM file paths */
  cert: string;
  key: string;
  /** SHA-256 fingerprint, uppercase hex with colons (Crossbar's peer_cert.sha256 format) */
  sha256: string;
  subjectCn: string;
  issuerCn: string;
}

export interface Ca {
  cert: string;
  key: string;
  cn: string;
}

let serial = 0;

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(err)}`, { cause: err });
  }
}

function fileSafe(cn: string): string {
  return cn.replace(/[^A-Za-z0-9_.-]/g, "_");
}

export class TestPki {
  readonly dir: string;

  constructor(dir?: string) {
    this.dir = dir ?? tempDir("pki");
  }

  /** A self-signed CA. */
  ca(cn: string): Ca {
    const base = join(this.dir, `ca-${fileSafe(cn)}`);
    openssl(
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        `${base}.key`,
        "-out",
        `${base}.crt`,
        "-days",
        "2",
        "-subj",
        `/CN=${cn}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
      this.dir,
    );
    return { cert: `${base}.crt`, key: `${base}.key`, cn };
  }

  /** A leaf certificate signed by `ca`: server (SAN 127.0.0.1 + localhost) or client (clientAuth). */
  issue(ca: Ca, cn: string, kind: "server" | "client"): CertFiles {
    const base = join(this.dir, `${kind}-${fileSafe(cn)}-${++serial}`);
    openssl(
      [
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        `${base}.key`,
        "-out",
        `${base}.csr`,
        "-subj",
        `/CN=${cn}`,
      ],
      this.dir,
    );
    const ext =
      kind === "server"
        ? "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
        : "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
    writeFileSync(`${base}.ext`, ext);
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${base}.csr`,
        "-CA",
        ca.cert,
        "-CAkey",
        ca.key,
        "-set_serial",
        String(Date.now() * 1000 + serial),
        "-days",
        "2",
        "-extfile",
        `${base}.ext`,
        "-out",
        `${base}.crt`,
      ],
      this.dir,
    );
    const x509 = new X509Certificate(readFileSync(`${base}.crt`));
    return { cert: `${base}.crt`, key: `${base}.key`, sha256: x509.fingerprint256, subjectCn: cn, issuerCn: ca.cn };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
