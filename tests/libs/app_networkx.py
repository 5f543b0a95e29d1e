# requires: networkx (python3-networkx)
"""networkx: graphs, shortest paths, centrality, components, a generator, json_graph."""
import networkx as nx
from networkx.readwrite import json_graph

G = nx.Graph()
G.add_weighted_edges_from([("a", "b", 1), ("b", "c", 2), ("a", "c", 5), ("c", "d", 1), ("e", "f", 1)])
print(nx.shortest_path(G, "a", "d", weight="weight"), nx.shortest_path_length(G, "a", "d", weight="weight"))
print(sorted(map(sorted, nx.connected_components(G))))
print({k: round(v, 4) for k, v in sorted(nx.betweenness_centrality(G).items())})
K = nx.petersen_graph()
print(K.number_of_nodes(), K.number_of_edges(), nx.diameter(K), nx.is_bipartite(K))
D = nx.DiGraph([(1, 2), (2, 3), (1, 3)])
print(list(nx.topological_sort(D)), round(nx.pagerank(D)[3], 6))
print(sorted(json_graph.node_link_data(D)["links"], key=lambda l: (l["source"], l["target"])))
print(nx.to_numpy_array(D).tolist())
