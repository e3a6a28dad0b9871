// id: csr_pending
// title: A CertificateSigningRequest is not approved, was denied or failed, or got no certificate
// severity: medium
// confidence: 0.85
// tags: [certificates, control-plane, security]
// shape: null
// explains: []
// impact: >-
//   The requester (a kubelet joining or rotating its certificate, or a workload asking for one) has no
//   certificate until the request is approved and signed: a new node cannot join, a kubelet's serving
//   certificate is missing (kubectl logs and exec to it fail), or the workload cannot start TLS. The control
//   plane deletes pending requests after 24 hours and denied or failed ones after 1 hour.
// resolution:
//   - kubectl get csr {csr} -o yaml
//   - "{next}"
:param release_key => null;
:param now => null;
:param csr_pending_timeout => 900;

// Requests Pending (neither Approved nor Denied) for longer than csr_pending_timeout seconds as of $now, Approved
// that long without a certificate, or Denied / Failed (kg_builder/facts_nodes.py sets csr_state). A request
// whose creation time is not recorded cannot be judged old and is left out. CSRs are cluster-scoped: no release.
MATCH (c:CertificateSigningRequest)
WHERE c.csr_state IN ['Pending', 'Approved', 'Denied', 'Failed'] AND c.deleted_at IS NULL AND $release_key IS NULL
WITH c, coalesce($now, datetime()) AS now
WITH c, now, CASE WHEN c.created_at IS NULL THEN null ELSE duration.inSeconds(c.created_at, now).seconds END AS age,
     CASE WHEN c.csr_decided_at IS NULL THEN null ELSE duration.inSeconds(c.csr_decided_at, now).seconds END AS waited
WHERE c.csr_state IN ['Denied', 'Failed']
   OR (c.csr_state = 'Pending' AND age >= $csr_pending_timeout)
   OR (c.csr_state = 'Approved' AND waited >= $csr_pending_timeout)
WITH c, age, waited,
     coalesce(c.signer_name, 'no signer named') AS signer, coalesce(c.csr_username, 'no user recorded') AS user
RETURN
  null AS release_key,
  {kind: 'CertificateSigningRequest', namespace: '', name: c.name, cluster: c.cluster} AS subject,
  'CertificateSigningRequest ' + c.name + ' of ' + user + ' for signer ' + signer + ' ' +
    CASE c.csr_state
      WHEN 'Pending' THEN 'has been Pending for ' + age + 's (neither approved nor denied)'
      WHEN 'Approved' THEN 'was approved ' + waited + 's ago but no certificate was issued'
      ELSE 'was ' + c.csr_state + coalesce(' (' + c.csr_reason + ')', ', no reason given') +
        coalesce(': ' + c.csr_message, ', no message') END AS summary,
  'Requested by ' + user +
    CASE WHEN size(coalesce(c.csr_groups, [])) > 0 THEN ' (groups ' + reduce(t = '', g IN c.csr_groups |
      t + CASE WHEN t = '' THEN '' ELSE ', ' END + g) + ')' ELSE '' END +
    ' at ' + toString(c.created_at) + ' for signer ' + signer +
    CASE WHEN size(coalesce(c.csr_usages, [])) > 0 THEN ', usages ' + reduce(t = '', u IN c.csr_usages |
      t + CASE WHEN t = '' THEN '' ELSE ', ' END + u) ELSE '' END +
    coalesce(', expirationSeconds ' + toString(c.expiration_seconds), ', no expirationSeconds requested') + '. ' +
    CASE WHEN c.csr_state = 'Pending' THEN 'No Approved or Denied condition is recorded.'
         ELSE c.csr_state + coalesce(' at ' + toString(c.csr_decided_at), ', time not recorded') +
           coalesce(' with reason ' + c.csr_reason, ', no reason given') +
           coalesce(': ' + c.csr_message, ', no message') + '.' END +
    CASE WHEN c.certificate_issued THEN ' A certificate was issued.' ELSE ' No certificate was issued.' END AS details,
  [{kind: 'CertificateSigningRequest', name: c.name, at: coalesce(c.csr_decided_at, c.created_at),
    text: c.csr_state + ', signer ' + signer + ', user ' + user +
      coalesce(', reason ' + c.csr_reason, '') + coalesce(': ' + c.csr_message, '')}] AS evidence,
  [{at: c.created_at, what: 'CSR ' + c.name + ' created by ' + user}] +
  CASE WHEN c.csr_decided_at IS NULL THEN [] ELSE [{at: c.csr_decided_at, what: 'CSR ' + c.name + ' ' +
    c.csr_state}] END AS event_chain,
  {csr: c.name,
   next: CASE c.csr_state
     WHEN 'Pending' THEN
       CASE WHEN c.signer_name = 'kubernetes.io/kubelet-serving'
         THEN 'kubectl certificate approve ' + c.name +
           '   # kubelet-serving requests are never auto-approved; check the node first (or run an approver)'
         ELSE 'kubectl certificate approve ' + c.name + '   # once you trust the request; or deny it' END
     WHEN 'Approved' THEN 'kubectl get csr ' + c.name + " -o jsonpath='{.spec.signerName}'" +
       '   # the signer did not issue: is its controller running?'
     ELSE '# the requester must send a new request; a Denied or Failed CSR is never signed' END} AS vars
