// Validates custom resources against the OpenAPI schemas of their CRDs, as compiled into the
// @kubernetes-models packages (installed by helm/tools.sh into .tools/node_modules).
// stdin: a JSON array of objects. stdout: a JSON array, one entry per object: null when valid,
// an error message when not, "no-schema" when no package covers its apiVersion/kind.
// argv[2]: the folder that holds node_modules (default .tools).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const modules = resolve(process.argv[2] || ".tools", "node_modules");

const PACKAGES = {
  "networking.istio.io": "@kubernetes-models/istio",
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
  "cert-manager.io": "@kubernetes-models/cert-manager",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

const docs = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const doc of docs) {
  const [group, version] = doc.apiVersion.split("/");
  const pkg = PACKAGES[group];
  if (!pkg) {
    results.push("no-schema");
    continue;
  }
  let Model;
  try {
    const file = resolve(modules, pkg, group, version, `${doc.kind}.js`);
    Model = (await import(pathToFileURL(file).href))[doc.kind];
  } catch {
    results.push("no-schema");
    continue;
  }
  try {
    new Model(doc).validate();
    results.push(null);
  } catch (err) {
    results.push(String(err.message || err));
  }
}
process.stdout.write(JSON.stringify(results));
