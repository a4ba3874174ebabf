// The admin console's entry point: loads config.json and shows the console.
const res = await fetch("config.json");
const config = await res.json();
document.getElementById("app").textContent = "Guest access admin console for " + config.apiBaseUrl;
