fetch("date").then((response) => response.json()).then((data) => {
  document.getElementById("date").textContent = data.uptime;
});
