// Package faulttest holds signalpipe's fault-injection suite: tests that
// break the pipeline on purpose (kill -9, platform outages, broker faults)
// and check that the ledger still balances. Every test is named TestFault…
// and bounded in time.
package faulttest
