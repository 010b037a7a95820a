// The secret-chain components from TypeScript. Set up once, in this directory:
//   pulumi package add ../../provider   # generates sdks/secret-chain (the @pulumi/secret-chain SDK)
//   npm install
//   pulumi stack init dev && pulumi config env add secret-chain/PullRequest   # exactly the keys used below
//   pulumi config set kubernetes:enableSecretMutable true && pulumi up   # Secrets updated in place on a rotation
// Values not passed here are read from the ESC environment's pulumiConfig: namespace:imagePullSecret (Base's, by
// PullRequest's implicit import) and prometheus:authToken (PullRequest's own; Preview has none). PullRequest is the
// smallest environment that holds both (tests/test_examples.py computes it); it writes nothing to GitHub.
import * as pulumi from "@pulumi/pulumi";
import * as secretChain from "@pulumi/secret-chain";

const config = new pulumi.Config();
const appNamespace = config.get("appNamespace") ?? "default";

const ghcr = new secretChain.GhcrPullSecret("ghcr", {
    namespaces: [appNamespace],
    attachToDefaultServiceAccount: true,
});

const metrics = new secretChain.PrometheusAuth("metrics", {
    namespace: appNamespace,
    monitorNamespace: "monitoring",
    monitorLabels: { release: "kube-prometheus-stack" },
});

export const pullSecrets = ghcr.secretNames;
export const metricsSecret = metrics.secretName;
