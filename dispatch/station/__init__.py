"""The station alert screen (车站报警屏, /station/): a wall screen in an ambulance station that
rings when one of the station's units is sent, shows the job across the garage until someone
acknowledges it, and prints the dispatch slip (派车单)."""
