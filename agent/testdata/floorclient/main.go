// Command floorclient is the least a client can do to read N secrets from
// one vault with managed identity, at most C requests in flight: the IMDS
// token and the vault's 401 challenge at once, then N authorized GETs.
// No SDK, no manifest, no files: plain net/http and encoding/json. The
// render benchmark runs it against the same emulator as the agent, so the
// agent's time can be read against the floor the machine and the emulator
// set for the same round trips.
//
//	floorclient VAULT_URL N C
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: floorclient VAULT_URL N C")
		os.Exit(64)
	}
	vault := os.Args[1]
	n, errN := strconv.Atoi(os.Args[2])
	c, errC := strconv.Atoi(os.Args[3])
	if errN != nil || errC != nil || n < 1 || c < 1 {
		fmt.Fprintln(os.Stderr, "floorclient: N and C must be positive integers")
		os.Exit(64)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}}
	var token string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		req, _ := http.NewRequest("GET", "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net", nil)
		req.Header.Set("Metadata", "true")
		var body struct {
			AccessToken string `json:"access_token"`
		}
		must(do(client, req, http.StatusOK, &body))
		token = body.AccessToken
	}()
	go func() {
		defer wg.Done()
		req, _ := http.NewRequest("GET", vault+"/secrets/s0/?api-version=7.6", nil)
		must(do(client, req, http.StatusUnauthorized, nil))
	}()
	wg.Wait()
	sem := make(chan struct{}, c)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/secrets/s%d/?api-version=7.6", vault, i), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			var body struct {
				Value string `json:"value"`
			}
			must(do(client, req, http.StatusOK, &body))
		}()
	}
	wg.Wait()
}

func do(c *http.Client, req *http.Request, want int, into any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s, want %d", req.Method, req.URL.Path, resp.Status, want)
	}
	if into != nil {
		return json.NewDecoder(resp.Body).Decode(into)
	}
	return nil
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "floorclient:", err)
		os.Exit(1)
	}
}
