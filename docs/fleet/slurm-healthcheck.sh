#!/bin/sh
# docs/fleet/slurm-healthcheck.sh
# Slurm HealthCheckProgram (and Epilog) for a SadTalker node: sadfix doctor writes its metrics for
# node_exporter; when torch cannot use the node's GPU the node is drained with sadfix's reason,
# and resumed once doctor finds CUDA working again (only if sadfix drained it).
#   slurm.conf: HealthCheckProgram=/usr/local/sbin/sadfix-healthcheck
#               HealthCheckInterval=900
#               HealthCheckNodeState=ANY
#   or, after every job: Epilog=/etc/slurm/epilog.d/*  (this file as epilog.d/50-sadfix)
# Needs on the node: sadfix (/usr/local/bin/sadfix, or $SADFIX), the install in $SADTALKER,
# node_exporter reading $TEXTFILE, scontrol on PATH. slurmd runs both as root.
SADTALKER=${SADTALKER:-/opt/SadTalker}
TEXTFILE=${TEXTFILE:-/var/lib/prometheus/node-exporter}
metrics="$TEXTFILE/sadfix-doctor.prom"
node=$(hostname -s)

status=0
"${SADFIX:-/usr/local/bin/sadfix}" --root "$SADTALKER" --quiet doctor --timeout 60 --metrics "$metrics" \
    >/dev/null || status=$?
if [ "$status" -gt 1 ]; then
    echo "sadfix doctor could not run (exit $status)" >&2
    exit 0
fi

if grep -qx 'sadfix_cuda_available 0' "$metrics" && grep -qx 'sadfix_nvidia_gpu_present 1' "$metrics"; then
    scontrol update NodeName="$node" State=DRAIN \
        Reason="sadfix: torch cannot use the GPU; run sadfix doctor"
elif scontrol show node "$node" | grep -q 'Reason=sadfix:'; then
    scontrol update NodeName="$node" State=RESUME
fi
exit 0
