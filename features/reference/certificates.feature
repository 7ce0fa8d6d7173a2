Feature: The cartório's certificates: an expiring certificate and a slow OCSP responder page the on-call channel
  Seed 000. The blackbox exporter probes a real TLS endpoint whose certificate the harness issues
  from the stack's own CA, and an OCSP-like responder whose latency a fault raises. Certificate
  days are calendar days (compared with the wall clock, never time-scaled); the OCSP latency is
  literal seconds, and its scrape keeps real time (4 s) so the probe can measure it.

  Background:
    Given the stack "reference" is running

  Scenario: a certificate with 10 days left pages #plantao-cartorio, and clears when renewed
    When the certificate of "cartorio-tls" is reissued to expire in 10 days
    Then the alert "CertificadoProximoExpirar" fires within 7 minutes
    And "cartorio-oncall" is notified via slack of "CertificadoProximoExpirar" within 8 minutes
    And "critical-alerts" is never notified of "CertificadoProximoExpirar" within 8 minutes
    When the certificate of "cartorio-tls" is restored
    Then the alert "CertificadoProximoExpirar" resolves within 2 minutes
    And "cartorio-oncall" is notified that "CertificadoProximoExpirar" resolved within 8 minutes

  Scenario: a certificate with 20 days left is not an alert yet
    When the certificate of "cartorio-tls" is reissued to expire in 20 days
    Then "cartorio-oncall" is never notified of "CertificadoProximoExpirar" within 10 minutes

  Scenario: a slow OCSP responder warns the cartório's on-call channel, and clears when fast again
    When the latency of "ocsp-responder" is raised to 3 seconds
    Then the alert "LatenciaOCSPElevada" fires within 20 minutes
    And "cartorio-oncall" is notified of "LatenciaOCSPElevada" within 21 minutes
    When the faults of "ocsp-responder" are reverted
    Then the alert "LatenciaOCSPElevada" resolves within 10 minutes
    And "cartorio-oncall" is notified that "LatenciaOCSPElevada" resolved within 12 minutes
